// Lower-case hex SHA-256 straight from node:crypto (edge cost): the same digest as bytesToHex(sha256(…)) without the
// intermediate copies; strings are hashed as their UTF-8 bytes.
import { createHash } from 'node:crypto';

/** @example sha256Hex(body) === bytesToHex(sha256(body)) */
export function sha256Hex(...parts: ReadonlyArray<Uint8Array | string>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
