// T4-T: the AGT wire's AEAD, ChaCha20-Poly1305 (RFC 8439) with a random 96-bit nonce prepended (wire spec §5.3):
// sealed = nonce(12) ‖ ciphertext ‖ tag(16). Byte-compatible with @noble/ciphers as the AGT SDK uses it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { abytes } from '../crypto/assert';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Seals `plaintext` under a 32-byte one-time message key, binding `aad`. */
export function sealChaCha20Poly1305(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  abytes(key, 32, 'key');
  abytes(plaintext, undefined, 'plaintext');
  abytes(aad, undefined, 'aad');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body.buffer, body.byteOffset, body.length);
}

/**
 * Opens a sealed message; undefined when it is too short or the tag does not verify. `verifyTag: false` exists only
 * for the T4-T attack test (`_disable: ['aead-tag']`): it decrypts with the bare ChaCha20 stream (block counter 1,
 * RFC 8439 §2.8) and ignores the tag.
 * @throws {TypeError|RangeError} when `key` is not 32 bytes or an argument is not a Uint8Array
 */
export function openChaCha20Poly1305(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, verifyTag = true): Uint8Array | undefined {
  abytes(key, 32, 'key');
  abytes(sealed, undefined, 'sealed');
  abytes(aad, undefined, 'aad');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  if (!verifyTag) {
    const iv = Buffer.concat([Buffer.from([1, 0, 0, 0]), nonce]);
    const stream = createDecipheriv('chacha20', key, iv);
    return new Uint8Array(Buffer.concat([stream.update(body), stream.final()]));
  }
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad, { plaintextLength: body.length });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const out = decipher.update(body);
  try {
    return new Uint8Array(Buffer.concat([out, decipher.final()]));
  } catch {
    out.fill(0);
    return undefined;
  }
}
