// Checks a prekey upload before it is stored (T4-S): key lengths, the signed prekey's Ed25519 signature over its
// X25519 public key (AGENTMESH-WIRE-1.0 §6.1; the AGT X3DHKeyManager signs the 32 raw bytes), distinct OPK ids.
import { fail, ok, type Result } from '../../errors';
import { decodeBase64UrlStrict } from './base64url';
import type { StoredBundle } from './agent-record';
import { verifyEd25519 } from './verify-ed25519';

export const MAX_ONE_TIME_PREKEYS = 200;

export interface PrekeyUpload {
  identity_key: string;
  identity_key_ed: string;
  signed_pre_key: { key_id: number; public_key: string; signature: string };
  one_time_pre_keys: { key_id: number; public_key: string }[];
}

export type PrekeyRefusal = 'key-length' | 'spk-signature' | 'duplicate-opk';

export interface CheckedBundle {
  bundle: StoredBundle;
  identityKeyEd: Uint8Array;
  identityKey: Uint8Array;
}

/** @param verifySignature false only through the attack tests' `_disable` switch */
export function checkPrekeyUpload(upload: PrekeyUpload, verifySignature = true): Result<CheckedBundle, PrekeyRefusal> {
  const identityKey = decodeBase64UrlStrict(upload.identity_key, 32);
  const identityKeyEd = decodeBase64UrlStrict(upload.identity_key_ed, 32);
  const spk = decodeBase64UrlStrict(upload.signed_pre_key.public_key, 32);
  const spkSig = decodeBase64UrlStrict(upload.signed_pre_key.signature, 64);
  if (!identityKey || !identityKeyEd || !spk || !spkSig) return fail('key-length', 'keys must be 32 bytes, the signature 64');
  const ids = new Set<number>();
  for (const opk of upload.one_time_pre_keys) {
    if (!decodeBase64UrlStrict(opk.public_key, 32)) return fail('key-length', 'one-time prekeys must be 32 bytes');
    if (ids.has(opk.key_id)) return fail('duplicate-opk', 'one-time prekey ids must be distinct');
    ids.add(opk.key_id);
  }
  if (verifySignature && !verifyEd25519(identityKeyEd, spk, spkSig)) return fail('spk-signature', 'signed prekey signature invalid');
  return ok({
    identityKey,
    identityKeyEd,
    bundle: {
      identityKey: upload.identity_key,
      signedPreKey: { keyId: upload.signed_pre_key.key_id, publicKey: upload.signed_pre_key.public_key, signature: upload.signed_pre_key.signature },
      oneTimePreKeys: upload.one_time_pre_keys.map((o) => ({ keyId: o.key_id, publicKey: o.public_key })),
    },
  });
}
