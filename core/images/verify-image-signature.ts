// Residual risk 1: offline check of a cosign key-based image signature (the "simple signing" payload Kyverno's
// verifyImages checks with `keys.publicKeys`). Lets tooling (rollout pre-flight, CI) reject an unsigned image before
// it reaches admission, and lets tests prove the admission key configuration without a cluster.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { fail, ok, type Result } from '../errors';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface ImageSignatureEvidence {
  /** The exact payload bytes that were signed (the signature layer's content). */
  payload: Uint8Array;
  /** `dev.cosignproject.cosign/signature` annotation: base64 DER ECDSA signature over SHA-256(payload). */
  signatureBase64: string;
}

export interface VerifiedImage {
  repository: string;
  digest: string;
}

const DIGEST_REF = /^([a-z0-9][a-z0-9.:-]*(?:\/[a-z0-9._-]+)+)@(sha256:[a-f0-9]{64})$/;

/** Splits `registry/repo@sha256:<hex>`; tags are refused (a tag can be moved after signing). */
export function parseDigestReference(image: string): Result<VerifiedImage, 'IMAGE_SIGNATURE_INVALID'> {
  const m = DIGEST_REF.exec(image);
  if (!m) return fail('IMAGE_SIGNATURE_INVALID', 'image reference must be <registry>/<repository>@sha256:<64 hex>');
  return ok({ repository: m[1]!, digest: m[2]! });
}

/** The payload `cosign sign` signs for `image` (field order as cosign writes it). */
export function cosignSimpleSigningPayload(image: VerifiedImage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({
    critical: {
      identity: { 'docker-reference': image.repository },
      image: { 'docker-manifest-digest': image.digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: null,
  }));
}

/**
 * Verifies that `evidence` is a signature by `publicKeyPem` (ECDSA P-256, as Kyverno's `signatureAlgorithm: sha256`)
 * over a payload that names exactly this repository and digest. The signature is checked before the payload is
 * parsed, so unauthenticated JSON is never interpreted.
 */
export function verifyCosignImageSignature(
  image: string,
  evidence: ImageSignatureEvidence,
  publicKeyPem: string,
): Result<VerifiedImage, 'IMAGE_SIGNATURE_INVALID'> {
  const ref = parseDigestReference(image);
  if (!ref.ok) return ref;
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    return fail('IMAGE_SIGNATURE_INVALID', 'configured public key is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return fail('IMAGE_SIGNATURE_INVALID', 'configured public key must be ECDSA P-256');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(evidence.signatureBase64)) return fail('IMAGE_SIGNATURE_INVALID', 'signature is not base64');
  const signature = Buffer.from(evidence.signatureBase64, 'base64');
  let valid = false;
  try {
    valid = verify('sha256', evidence.payload, { key, dsaEncoding: 'der' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) return fail('IMAGE_SIGNATURE_INVALID', 'signature does not verify with the configured key');
  let doc: { critical?: { identity?: Record<string, unknown>; image?: Record<string, unknown>; type?: unknown } };
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(evidence.payload)) as typeof doc;
  } catch {
    return fail('IMAGE_SIGNATURE_INVALID', 'signed payload is not JSON');
  }
  const c = doc.critical;
  if (c?.type !== COSIGN_SIGNATURE_TYPE) return fail('IMAGE_SIGNATURE_INVALID', 'signed payload is not a cosign image signature');
  if (c.image?.['docker-manifest-digest'] !== ref.value.digest) return fail('IMAGE_SIGNATURE_INVALID', 'signature is for another digest');
  if (c.identity?.['docker-reference'] !== ref.value.repository) return fail('IMAGE_SIGNATURE_INVALID', 'signature is for another repository');
  return ok(ref.value);
}
