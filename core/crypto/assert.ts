// Entry assertions in the style of noble-hashes `abytes`/`anumber`: wrong type → TypeError, wrong size → RangeError.
// T1-S/T1-T: every verifier checks its byte inputs before touching them, so a string body can never be MACed by accident.

/**
 * True for a real `Uint8Array` (including Node's `Buffer` subclass) or a cross-realm one; false for spoofs such as
 * `{ constructor: { name: 'Uint8Array' } }`, other typed arrays, `DataView`, or a Proxy over a plain object.
 * @param value anything
 * @returns whether `value` is a byte array
 * @example isBytes(new Uint8Array(2)) // true
 */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array');
}

/**
 * Asserts `value` is a `Uint8Array`, optionally of an exact length, and returns it.
 * @param value the argument to check
 * @param length exact byte length required, or undefined for any length
 * @param title argument name used in the message
 * @returns `value`, typed
 * @throws {TypeError} when `value` is not a Uint8Array
 * @throws {RangeError} when `length` is given and differs
 * @example abytes(key, 32, 'key')
 */
export function abytes(value: unknown, length?: number, title = 'value'): Uint8Array {
  if (isBytes(value) && (length === undefined || value.length === length)) return value;
  const of = length === undefined ? '' : ` of length ${length}`;
  if (!isBytes(value)) throw new TypeError(`"${title}" expected Uint8Array${of}, got type=${describe(value)}`);
  throw new RangeError(`"${title}" expected Uint8Array${of}, got length=${value.length}`);
}

/**
 * Asserts `value` is a finite, non-negative safe integer and returns it.
 * @param value the argument to check
 * @param title argument name used in the message
 * @returns `value`, typed
 * @throws {TypeError} when `value` is not a number
 * @throws {RangeError} when `value` is negative, fractional, NaN, infinite or above 2^53-1
 * @example anumber(nowMs, 'nowMs')
 */
export function anumber(value: unknown, title = 'value'): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value !== 'number') throw new TypeError(`"${title}" expected non-negative integer, got type=${describe(value)}`);
  throw new RangeError(`"${title}" expected non-negative integer, got ${String(value)}`);
}

/**
 * Asserts `value` is a safe integer within `min`..`max` (inclusive) and returns it: the check for options and limits.
 * @param value the argument to check
 * @param title argument name used in the message
 * @returns `value`, typed
 * @throws {TypeError} when `value` is not a number
 * @throws {RangeError} when `value` is fractional, NaN, infinite or outside `min`..`max`
 * @example aintIn(options.windowMs ?? DEFAULT_WINDOW_MS, 1000, 3_600_000, 'windowMs')
 */
export function aintIn(value: unknown, min: number, max: number, title = 'value'): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  if (typeof value !== 'number') throw new TypeError(`"${title}" expected an integer in ${min}..${max}, got type=${describe(value)}`);
  throw new RangeError(`"${title}" expected an integer in ${min}..${max}, got ${String(value)}`);
}

// Describes the type only, never the value: the value may be secret material.
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return Array.isArray(value) ? 'array' : 'object';
}
