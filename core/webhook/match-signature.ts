// The one place where MACs are computed and compared (T1-S): every candidate key against every offered signature,
// in constant time per comparison. Keys decoded for one call are wiped afterwards; cached keys (secret-key-cache.ts)
// are left intact for the next request.
import { abytes, anumber } from '../crypto/assert';
import { constantTimeEqual } from '../crypto/constant-time-equal';
import { hmacSha256 } from '../crypto/hmac-sha256';
import { wipe } from './decode-secret';
import type { VerifyWebhookInput } from './types';

/**
 * Asserts the programmer-supplied parts of a verifier input. Secrets are checked later and fail closed with a code,
 * because they come from configuration, not from code.
 * @throws {TypeError|RangeError} for a non-byte body, a non-function header lookup or a bad `nowMs`
 */
export function assertVerifyInput(input: VerifyWebhookInput): void {
  if (typeof input !== 'object' || input === null) throw new TypeError('"input" expected object');
  abytes(input.body, undefined, 'body');
  if (typeof input.header !== 'function') throw new TypeError('"header" expected function');
  anumber(input.nowMs, 'nowMs');
}

/**
 * Computes HMAC-SHA256(key, ...prefix, body) for each key and compares it with each offered signature.
 * Consumes `keys`: they are zero-filled before returning.
 * @returns index of the first key that produced an offered signature, or -1
 */
export function findMatchingKey(keys: Uint8Array[], signed: Uint8Array[], offered: Uint8Array[]): number {
  try {
    return matchSignature(keys, signed, offered);
  } finally {
    wipe(keys);
  }
}

/**
 * Same as {@link findMatchingKey} but leaves `keys` untouched: for the shared keys of secret-key-cache.ts.
 * @returns index of the first key that produced an offered signature, or -1
 */
export function matchSignature(keys: readonly Uint8Array[], signed: readonly Uint8Array[], offered: readonly Uint8Array[]): number {
  for (let index = 0; index < keys.length; index += 1) {
    const mac = hmacSha256(keys[index]!, ...signed);
    // No early exit inside the inner loop beyond a match: a match ends verification anyway, and which offered
    // entry matched is not secret.
    for (const candidate of offered) if (constantTimeEqual(mac, candidate)) return index;
  }
  return -1;
}
