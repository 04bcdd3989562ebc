// T4-T: the threat model's AEAD, XSalsa20-Poly1305 (NaCl secretbox, tweetnacl). secretbox has no associated data, so
// the header and identities are bound through the key: k = HMAC-SHA256(message key, DOMAIN ‖ aad). A changed header
// gives another key and the Poly1305 check fails. sealed = nonce(24) ‖ tag(16) ‖ ciphertext.
import { createHmac, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { abytes } from '../crypto/assert';

const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const AAD_KEY_DOMAIN = Buffer.from('kars-mesh/xsalsa20poly1305/aad-key/v1\0', 'utf8');

interface NaclLowLevel {
  crypto_stream_xor(c: Uint8Array, cpos: number, m: Uint8Array, mpos: number, d: number, n: Uint8Array, k: Uint8Array): number;
}

function boundKey(key: Uint8Array, aad: Uint8Array): Uint8Array {
  const k = createHmac('sha256', key).update(AAD_KEY_DOMAIN).update(aad).digest();
  return new Uint8Array(k.buffer, k.byteOffset, 32);
}

/** Seals `plaintext` under a 32-byte one-time message key, binding `aad`. */
export function sealXSalsa20Poly1305(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  abytes(key, 32, 'key');
  abytes(plaintext, undefined, 'plaintext');
  abytes(aad, undefined, 'aad');
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const k = boundKey(key, aad);
  const box = nacl.secretbox(plaintext, nonce, k);
  k.fill(0);
  const out = new Uint8Array(NONCE_BYTES + box.length);
  out.set(nonce, 0);
  out.set(box, NONCE_BYTES);
  return out;
}

/**
 * Opens a sealed message; undefined when it is too short or the tag does not verify. `verifyTag: false` exists only
 * for the T4-T attack test (`_disable: ['aead-tag']`): it runs the bare XSalsa20 stream as secretbox does (the first
 * 32 stream bytes are the Poly1305 key) and ignores the tag.
 * @throws {TypeError|RangeError} when `key` is not 32 bytes or an argument is not a Uint8Array
 */
export function openXSalsa20Poly1305(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, verifyTag = true): Uint8Array | undefined {
  abytes(key, 32, 'key');
  abytes(sealed, undefined, 'sealed');
  abytes(aad, undefined, 'aad');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const k = boundKey(key, aad);
  try {
    if (!verifyTag) {
      const body = sealed.subarray(NONCE_BYTES + TAG_BYTES);
      const m = new Uint8Array(32 + body.length);
      m.set(body, 32);
      const c = new Uint8Array(m.length);
      (nacl as unknown as { lowlevel: NaclLowLevel }).lowlevel.crypto_stream_xor(c, 0, m, 0, m.length, nonce, k);
      return c.subarray(32);
    }
    return nacl.secretbox.open(sealed.subarray(NONCE_BYTES), nonce, k) ?? undefined;
  } finally {
    k.fill(0);
  }
}
