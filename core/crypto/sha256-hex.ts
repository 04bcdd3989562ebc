// The project's one lower-case hex SHA-256, straight from node:crypto (edge cost): the same digest as
// bytesToHex(sha256(…)) without the intermediate copies; strings are hashed as their UTF-8 bytes, parts concatenated.
import { createHash, hash } from 'node:crypto';

/** @example sha256Hex(body) === bytesToHex(sha256(body)) */
export function sha256Hex(...parts: ReadonlyArray<Uint8Array | string>): string {
  // One part (the usual case): the one-shot digest, without a Hash object.
  if (parts.length === 1) return hash('sha256', parts[0]!, 'hex');
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest('hex');
}
