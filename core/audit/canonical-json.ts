// T1-R/T2-R/T4-R: the one byte encoding receipts are hashed over; any value with two encodings would let a tamperer
// keep a hash while changing meaning, so everything ambiguous is refused rather than normalised.
import { KarsError } from '../errors';

/** Values the canonical encoding accepts: JSON with safe integers as the only numbers. */
export type CanonicalValue = string | number | boolean | null | CanonicalValue[] | CanonicalObject;
export interface CanonicalObject {
  [key: string]: CanonicalValue;
}

export const CANONICAL_MAX_DEPTH = 32;

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units (as RFC 8785 sorts), no whitespace, strings escaped as
 * JSON.stringify does. Refuses floats, NaN, ±Infinity, -0, integers beyond 2^53-1, undefined, functions, symbols,
 * bigint, lone surrogates, sparse arrays, accessor or symbol-keyed properties, non-plain objects (Date, Map, Buffer,
 * class instances), cycles and nesting deeper than CANONICAL_MAX_DEPTH.
 * @throws KarsError INPUT_INVALID naming the JSON path of the first offending value (never the value itself).
 */
export function canonicalJson(value: unknown): string {
  // The fast pass builds no paths; anything it does not accept is encoded again by the explaining pass, which throws
  // with the path. Both passes accept exactly the same values (property-tested), so the output is the same.
  return encodeFast(value, 0) ?? explainCanonicalJson(value);
}

/** The explaining pass alone: the same result as canonicalJson, slower, with the JSON path in every refusal. */
export function explainCanonicalJson(value: unknown): string {
  const parts: string[] = [];
  encode(value, '$', 0, new Set(), parts);
  return parts.join('');
}

/** canonicalJson of one string: what receipts and checkpoints splice into their own encodings. @throws KarsError INPUT_INVALID */
export function canonicalString(s: string): string {
  if (!isWellFormed(s)) reject('$', 'lone surrogate in string');
  return JSON.stringify(s);
}

/** canonicalJson as UTF-8 bytes (what gets hashed and signed). */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** True when the value would encode without error. */
export function isCanonicalValue(value: unknown): value is CanonicalValue {
  try {
    canonicalJson(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The common case in one pass: undefined for anything the encoding refuses (or that needs a closer look), and then
 * `encode` decides and explains. A cycle needs no set here: it runs into the depth bound.
 */
function encodeFast(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return isWellFormed(value) ? JSON.stringify(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (depth >= CANONICAL_MAX_DEPTH) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) return undefined;
    const arr = value as unknown[];
    let out = '[';
    for (let i = 0; i < arr.length; i += 1) {
      if (!Object.hasOwn(arr, i)) return undefined;
      const desc = Object.getOwnPropertyDescriptor(arr, i)!;
      if (!('value' in desc)) return undefined;
      const item = encodeFast(desc.value, depth + 1);
      if (item === undefined) return undefined;
      out += i === 0 ? item : `,${item}`;
    }
    return `${out}]`;
  }
  if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i]!;
    if (!isWellFormed(key)) return undefined;
    const desc = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in desc)) return undefined;
    const item = encodeFast(desc.value, depth + 1);
    if (item === undefined) return undefined;
    out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${item}`;
  }
  return `${out}}`;
}

function encode(value: unknown, path: string, depth: number, seen: Set<object>, out: string[]): void {
  if (depth > CANONICAL_MAX_DEPTH) reject(path, `nesting deeper than ${CANONICAL_MAX_DEPTH}`);
  switch (typeof value) {
    case 'string':
      assertWellFormed(value, path);
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) reject(path, Number.isInteger(value) ? 'integer beyond 2^53-1' : 'not an integer');
      if (Object.is(value, -0)) reject(path, 'negative zero');
      out.push(String(value));
      return;
    case 'object':
      break;
    default:
      reject(path, `${typeof value} is not JSON`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const obj = value as object;
  if (seen.has(obj)) reject(path, 'cycle');
  seen.add(obj);
  if (Array.isArray(obj)) {
    if (Object.getPrototypeOf(obj) !== Array.prototype) reject(path, 'array subclass');
    out.push('[');
    for (let i = 0; i < obj.length; i += 1) {
      const desc = Object.getOwnPropertyDescriptor(obj, i);
      if (!desc) reject(`${path}[${i}]`, 'hole in sparse array');
      if (!('value' in desc)) reject(`${path}[${i}]`, 'accessor property');
      if (i > 0) out.push(',');
      encode(desc.value, `${path}[${i}]`, depth + 1, seen, out);
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) reject(path, 'not a plain object');
    if (Object.getOwnPropertySymbols(obj).length > 0) reject(path, 'symbol-keyed property');
    const keys = Object.keys(obj).sort();
    out.push('{');
    keys.forEach((key, i) => {
      const childPath = `${path}.${safePathSegment(key)}`;
      assertWellFormed(key, childPath);
      const desc = Object.getOwnPropertyDescriptor(obj, key);
      if (!desc || !('value' in desc)) reject(childPath, 'accessor property');
      if (i > 0) out.push(',');
      out.push(JSON.stringify(key), ':');
      encode(desc.value, childPath, depth + 1, seen, out);
    });
    out.push('}');
  }
  seen.delete(obj);
}

// A lone surrogate has no UTF-8 encoding: two different strings would hash to the same U+FFFD bytes.
function assertWellFormed(s: string, path: string): void {
  if (!isWellFormed(s)) reject(path, 'lone surrogate in string');
}

const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

function isWellFormed(s: string): boolean {
  return nativeIsWellFormed !== undefined ? nativeIsWellFormed.call(s) : scanWellFormed(s);
}

function scanWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
        continue;
      }
      return false;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

// Paths go into error messages: keep them short and printable, never echo arbitrary key bytes.
function safePathSegment(key: string): string {
  return /^[A-Za-z0-9_$-]{1,40}$/.test(key) ? key : '<key>';
}

function reject(path: string, why: string): never {
  throw new KarsError('INPUT_INVALID', `canonical JSON: ${path}: ${why}`);
}
