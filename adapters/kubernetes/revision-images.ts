// RR1 pre-flight for rollouts: a sandbox revision names its container images by digest only, each with the cosign
// signature (simple-signing payload + signature) that verifies under the release key, before the driver sends anything
// to the API server. Kyverno's verifyImages at admission is the second gate; this one keeps an unsigned or tag-only
// image out of the Deployment (and out of the rollout's rollback targets) in the first place.
import { fail, ok, type Result } from '../../core/errors';
import type { SandboxRevision } from '../../core/ports/sandbox-driver.port';
import { parseDigestReference, verifyCosignImageSignature } from '../../core/images/verify-image-signature';

/** Containers of the sandbox pod (infra/k8s/sandbox/deployment.yaml) a revision may set. */
export const SANDBOX_CONTAINERS = ['agent', 'router'] as const;
export type SandboxContainer = (typeof SANDBOX_CONTAINERS)[number];

/**
 * The AKS revision spec: `{ images: { router?: <ref@sha256>, agent?: … }, signatures: { router?: { payload, signature } } }`
 * (payload and signature base64, as `cosign download signature` gives them).
 */
export interface SignedRevisionSpec {
  images: Partial<Record<SandboxContainer, string>>;
  signatures: Partial<Record<SandboxContainer, { payload: string; signature: string }>>;
}

export type RevisionImageCheck = 'image-signature';

export interface RevisionImageOptions {
  /** PEM (P-256) of the release key, the same key the Kyverno policy pins. */
  publicKeyPem: string;
  /** Tests only: skip the signature check (digest pinning stays). No configuration reaches this. */
  readonly _disable?: readonly RevisionImageCheck[];
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const refuse = (message: string) => fail('IMAGE_SIGNATURE_INVALID' as const, message);

/** @returns container → digest reference, every one pinned and signed; the message names the container, never why a signature failed. */
export function verifiedRevisionImages(
  revision: SandboxRevision, options: RevisionImageOptions,
): Result<Partial<Record<SandboxContainer, string>>, 'IMAGE_SIGNATURE_INVALID'> {
  const spec = revision.spec as Partial<SignedRevisionSpec>;
  const images = spec.images;
  if (typeof images !== 'object' || images === null || Array.isArray(images)) return refuse('revision.spec.images must name the container images');
  const out: Partial<Record<SandboxContainer, string>> = {};
  const names = Object.keys(images);
  if (names.length === 0) return refuse('revision.spec.images must name at least one container image');
  for (const name of names) {
    if (!(SANDBOX_CONTAINERS as readonly string[]).includes(name)) return refuse(`revision.spec.images may name only ${SANDBOX_CONTAINERS.join(', ')}`);
    const container = name as SandboxContainer;
    const image = images[container];
    if (typeof image !== 'string' || !parseDigestReference(image).ok) return refuse(`image of ${container} must be pinned by digest`);
    if (!options._disable?.includes('image-signature')) {
      const sig = spec.signatures?.[container];
      if (!sig || typeof sig.payload !== 'string' || typeof sig.signature !== 'string' || !B64.test(sig.payload) || !B64.test(sig.signature)) {
        return refuse(`image of ${container} has no signature`);
      }
      const verified = verifyCosignImageSignature(image, { payload: Buffer.from(sig.payload, 'base64'), signatureBase64: sig.signature }, options.publicKeyPem);
      if (!verified.ok) return refuse(`image of ${container} is not signed by the release key`);
    }
    out[container] = image;
  }
  return ok(out);
}
