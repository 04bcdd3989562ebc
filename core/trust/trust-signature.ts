// T4-E "signed updates only": Ed25519 over domain-separated canonical bytes, `kars.trust.v1\n` + canonical JSON of
// the payload (core/audit/canonical-json.ts), so a signature made for another kars message type (audit checkpoints,
// …) or another encoding of the same fields never verifies as a trust update.
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json';
import { parseEd25519PublicKey, rawEd25519PublicKey } from '../audit/ed25519-keys';
import { sha256Hex } from '../crypto/sha256-hex';
import type { SignedTrustUpdate, TrustPayload } from './trust-update';

export const TRUST_SIGNATURE_DOMAIN = 'kars.trust.v1\n';

/** The exact bytes an issuer signs. @throws KarsError INPUT_INVALID for a payload the canonical encoding refuses */
export function trustSigningBytes(payload: TrustPayload): Uint8Array {
  return new TextEncoder().encode(TRUST_SIGNATURE_DOMAIN + canonicalJson(payload));
}

/** base64url (no padding) of the raw 32-byte public key: the `issuer` field. */
export function trustIssuerKey(key: KeyObject): string {
  return Buffer.from(rawEd25519PublicKey(key)).toString('base64url');
}

/** Short, non-secret hint of an issuer key for receipts and logs: first 8 bytes of SHA-256(raw key), hex. */
export function trustIssuerKeyId(issuer: string): string {
  return sha256Hex(Buffer.from(issuer, 'base64url')).slice(0, 16);
}

/** Signs a payload with an Ed25519 private key (the CLI and tests; the service only verifies). */
export function signTrustPayload(payload: TrustPayload, privateKey: KeyObject): SignedTrustUpdate {
  const signature = sign(null, trustSigningBytes(payload), privateKey).toString('base64url');
  return { payload, signature };
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'bad-key' | 'mismatch' };

/**
 * Verifies the signature against the key the payload names. The reason is for the audit receipt only: callers get
 * one code whatever it is.
 */
export function checkTrustSignature(update: SignedTrustUpdate): SignatureCheck {
  if (update.signature === undefined || update.signature === '') return { ok: false, reason: 'missing' };
  if (!/^[A-Za-z0-9_-]{86}$/.test(update.signature)) return { ok: false, reason: 'malformed' };
  let key: KeyObject;
  try {
    if (Buffer.from(update.payload.issuer, 'base64url').length !== 32) return { ok: false, reason: 'bad-key' };
    key = parseEd25519PublicKey(update.payload.issuer);
  } catch {
    return { ok: false, reason: 'bad-key' };
  }
  let good: boolean;
  try {
    good = verify(null, trustSigningBytes(update.payload), key, Buffer.from(update.signature, 'base64url'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  return good ? { ok: true } : { ok: false, reason: 'mismatch' };
}
