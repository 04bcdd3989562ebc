// Turns verified raw bytes into a JSON value: strict UTF-8, plain JSON, and no prototype-poisoning keys (T1-T).
// Mirrors fastify's `onProtoPoisoning: 'error'` / `onConstructorPoisoning: 'error'` defaults.
import { abytes } from '../crypto/assert';

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; code: 'INPUT_INVALID'; paths: string[] };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Decodes `body` as UTF-8 (invalid sequences are an error, not U+FFFD) and parses it as JSON. Objects with a
 * `__proto__`, `constructor` or `prototype` key anywhere are refused: a later `Object.assign` or spread of such a value
 * is how prototype pollution starts. The failing path names only the position, never attacker text.
 * @param body the verified raw request body
 * @returns the parsed value, or INPUT_INVALID with path `(root)` or the poisoned key's parent path
 * @throws {TypeError} when `body` is not a Uint8Array
 * @example parseJsonBody(new TextEncoder().encode('{"a":1}'))
 */
export function parseJsonBody(body: Uint8Array): JsonBodyResult {
  abytes(body, undefined, 'body');
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, code: 'INPUT_INVALID', paths: ['(root)'] };
  }
  let poisoned = false;
  let value: unknown;
  try {
    value = JSON.parse(text, function reviver(this: unknown, key: string, v: unknown) {
      if (POISON_KEYS.has(key)) poisoned = true;
      return v;
    });
  } catch {
    // SyntaxError, or RangeError from absurd nesting: both are the sender's fault.
    return { ok: false, code: 'INPUT_INVALID', paths: ['(root)'] };
  }
  if (poisoned) return { ok: false, code: 'INPUT_INVALID', paths: ['(root)'] };
  return { ok: true, value };
}
