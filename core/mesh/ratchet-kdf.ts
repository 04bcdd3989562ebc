// T4-T: the Double Ratchet KDF chains (Signal Double Ratchet §5.2; AgentMesh wire spec §5.2, §8.2).
import { createHmac, hkdfSync } from 'node:crypto';
import { abytes } from '../crypto/assert';

const MESSAGE_KEY_BYTE = Buffer.from([0x01]);
const CHAIN_KEY_BYTE = Buffer.from([0x02]);

/** HKDF-SHA256 (RFC 5869) into `length` bytes. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/** KDF_RK: HKDF(salt = root key, IKM = DH output, info) → (new root key, chain key). */
export function kdfRoot(rootKey: Uint8Array, dhOutput: Uint8Array, info: Uint8Array): [Uint8Array, Uint8Array] {
  abytes(rootKey, 32, 'rootKey');
  abytes(dhOutput, 32, 'dhOutput');
  const out = hkdfSha256(dhOutput, rootKey, info, 64);
  return [out.subarray(0, 32), out.subarray(32, 64)];
}

/** KDF_CK: message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02). */
export function kdfChain(chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  abytes(chainKey, 32, 'chainKey');
  const messageKey = createHmac('sha256', chainKey).update(MESSAGE_KEY_BYTE).digest();
  const next = createHmac('sha256', chainKey).update(CHAIN_KEY_BYTE).digest();
  // Copies: callers zero message keys after use, which must never touch a buffer Node might share.
  return [Uint8Array.from(messageKey), Uint8Array.from(next)];
}
