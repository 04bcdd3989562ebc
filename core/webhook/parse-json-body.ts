// Turns verified raw bytes into a JSON value: strict UTF-8, plain JSON, and no prototype-poisoning keys (T1-T).
// Mirrors fastify's `onProtoPoisoning: 'error'` / `onConstructorPoisoning: 'error'` defaults.
import { abytes } from '../crypto/assert';

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; code: 'HTTP_BODY_MALFORMED'; paths: string[] };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Decodes `body` as UTF-8 (invalid sequences are an error, not U+FFFD) and parses it as JSON. Objects with a
 * `__proto__`, `constructor` or `prototype` key anywhere are refused: a later `Object.assign` or spread of such a value
 * is how prototype pollution starts. The failing path names only the position, never attacker text.
 * @param body the verified raw request body
 * @returns the parsed value, or HTTP_BODY_MALFORMED with path `(root)` or the poisoned key's parent path
 * @throws {TypeError} when `body` is not a Uint8Array
 * @example parseJsonBody(new TextEncoder().encode('{"a":1}'))
 */
export function parseJsonBody(body: Uint8Array): JsonBodyResult {
  abytes(body, undefined, 'body');
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] };
  }
  let poisoned = false;
  let value: unknown;
  try {
    if (needsReviverPass(body, text)) {
      value = JSON.parse(text, function reviver(this: unknown, key: string, v: unknown) {
        if (POISON_KEYS.has(key)) poisoned = true;
        return v;
      });
    } else {
      value = JSON.parse(text);
    }
  } catch {
    // SyntaxError, or RangeError from absurd nesting: both are the sender's fault.
    return { ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] };
  }
  if (poisoned) return { ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] };
  return { ok: true, value };
}

/**
 * The reviver pass calls back for every value and makes parsing about twice as slow; it can be skipped exactly when it
 * would find nothing and could not fail where plain parsing succeeds:
 * - no object key can decode to a poisoning name: none of the three names occurs literally and there is no `\u`
 *   escape (the only JSON escape that can spell letters or `_`); a match inside a string value only costs the slow path;
 * - nesting is shallow: the reviver recurses per level and overflows the stack on absurd nesting (refused as
 *   HTTP_BODY_MALFORMED), which plain JSON.parse would accept. At most {@link FAST_PATH_MAX_OPENERS} `{` and `[` bytes in
 *   total (UTF-8 continuation bytes are never 0x5B or 0x7B) bound the depth far below any stack limit.
 */
export const FAST_PATH_MAX_OPENERS = 256;

function needsReviverPass(body: Uint8Array, text: string): boolean {
  if (text.includes('\\u') || text.includes('__proto__') || text.includes('constructor') || text.includes('prototype')) return true;
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let openers = 0;
  for (const opener of [0x7b, 0x5b]) {
    for (let at = bytes.indexOf(opener); at >= 0; at = bytes.indexOf(opener, at + 1)) {
      openers += 1;
      if (openers > FAST_PATH_MAX_OPENERS) return true;
    }
  }
  return false;
}
