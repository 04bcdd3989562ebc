// HMAC-SHA256 and SHA-256 over byte parts, so signed content such as `id.ts.body` is MACed without concatenating
// (or decoding) the raw body (T1-S/T1-T: the MAC covers the exact bytes received).
import { createHash, createHmac } from 'node:crypto';
import { abytes } from './assert';

/**
 * HMAC-SHA256 of the concatenation of `parts` under `key`.
 * @param key MAC key (any length; RFC 2104 hashes keys longer than 64 bytes)
 * @param parts message parts, fed in order
 * @returns the 32-byte tag
 * @throws {TypeError} when `key` or a part is not a Uint8Array
 * @example hmacSha256(key, utf8ToBytes('v0:1531420618:'), body)
 */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  abytes(key, undefined, 'key');
  const mac = createHmac('sha256', key);
  for (const [i, part] of parts.entries()) mac.update(abytes(part, undefined, `parts[${i}]`));
  return new Uint8Array(mac.digest());
}

/**
 * SHA-256 of the concatenation of `parts`.
 * @param parts message parts, fed in order
 * @returns the 32-byte digest
 * @throws {TypeError} when a part is not a Uint8Array
 * @example sha256(body)
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const [i, part] of parts.entries()) hash.update(abytes(part, undefined, `parts[${i}]`));
  return new Uint8Array(hash.digest());
}
