// Canonical encoding: one byte string per value, and a refusal (not a silent normalisation) for anything ambiguous.
import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import {
  CANONICAL_MAX_DEPTH, canonicalBytes, canonicalJson, canonicalString, explainCanonicalJson, isCanonicalValue,
} from '../../../core/audit/canonical-json';
import { isKarsError } from '../../../core/errors';

// Independent reference built straight into a string (an intermediate object would reorder integer-like keys).
function sortedStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedStringify).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedStringify(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const jsonArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'grapheme' }),
    fc.maxSafeInteger().filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.nat(20).map(String)), tie('value'), { maxKeys: 5 }),
  ),
})).value;

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return isKarsError(e) ? e.code : `threw ${(e as Error).name}`;
  }
}

describe('canonicalJson', () => {
  it('sorts keys at every level, keeps array order, emits no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: 'x y' } })).toBe('{"a":{"c":"x y","d":[3,1,2]},"b":1}');
  });

  it('orders keys by UTF-16 code units (RFC 8785 §3.2.3 example keys)', () => {
    const keys = ['\u20ac', '\r', '\ufb33', '1', '\ud83d\ude00', '\u0080', '\u00f6'];
    const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
    // Read the order off the string: JS objects list integer-like keys ("1") first, whatever the source order.
    const expected = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];
    expect(canonicalJson(obj)).toBe(`{${expected.map((k) => `${JSON.stringify(k)}:${keys.indexOf(k)}`).join(',')}}`);
  });

  it('equals sorted JSON.stringify for any accepted JSON value, and is independent of key insertion order', () => {
    assertProperty(fc.property(jsonArb, (v) => {
      const enc = canonicalJson(v);
      expect(enc).toBe(sortedStringify(v));
      expect(canonicalJson(JSON.parse(enc))).toBe(enc);
    }), { numRuns: 300 });
  });

  it('hashes UTF-8 bytes of the encoding', () => {
    expect(Buffer.from(canonicalBytes({ k: 'é😀' })).toString('utf8')).toBe('{"k":"é😀"}');
  });

  it('accepts null-prototype objects and an own "__proto__" key as data', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['z'] = 1;
    bare['a'] = 2;
    expect(canonicalJson(bare)).toBe('{"a":2,"z":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":0}'))).toBe('{"__proto__":{"x":1},"a":0}');
  });

  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  const cyclicArray: unknown[] = [];
  cyclicArray.push(cyclicArray);
  let deep: unknown = 1;
  for (let i = 0; i <= CANONICAL_MAX_DEPTH; i += 1) deep = [deep];
  class Point { x = 1; }
  class MyArray extends Array<number> {}
  const hostile: ReadonlyArray<[string, unknown]> = [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['float', 1.5],
    ['tiny float', 5e-324],
    ['negative zero', -0],
    ['2^53', 2 ** 53],
    ['1e21', 1e21],
    ['undefined', undefined],
    ['undefined in object', { a: undefined }],
    ['undefined in array', [1, undefined]],
    ['function', () => 1],
    ['toJSON function is not honoured', { toJSON: () => 'x' }],
    ['symbol', Symbol('s')],
    ['bigint', 1n],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['Set', new Set()],
    ['Buffer', Buffer.from('ab')],
    ['Uint8Array', new Uint8Array(2)],
    ['class instance', new Point()],
    ['array subclass', MyArray.from([1])],
    ['getter', Object.defineProperty({}, 'g', { get: () => 1, enumerable: true })],
    ['symbol key', { [Symbol('k')]: 1 }],
    ['sparse array', [1, , 2]], // eslint-disable-line no-sparse-arrays
    ['cyclic object', cyclic],
    ['cyclic array', cyclicArray],
    [`nesting deeper than ${CANONICAL_MAX_DEPTH}`, deep],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', '\udc00'],
    ['reversed surrogate pair', '\udc00\ud800'],
    ['lone surrogate in a key', { '\ud800': 1 }],
    ['float nested deep', { a: [{ b: 0.1 }] }],
  ];

  it.each(hostile)('refuses %s with INPUT_INVALID', (_label, value) => {
    expect(codeOf(() => canonicalJson(value))).toBe('INPUT_INVALID');
    expect(isCanonicalValue(value)).toBe(false);
  });

  it('names the path of the offending value and never echoes keys or values', () => {
    let message = '';
    try {
      canonicalJson({ ok: 1, nested: { 'sk_live_SECRET key': 0.5 } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('$.nested.<key>');
    expect(message).not.toContain('SECRET');
    expect(message).not.toContain('0.5');
  });

  it('shares a repeated (non-cyclic) object reference without calling it a cycle', () => {
    const shared = { a: 1 };
    expect(canonicalJson({ x: shared, y: [shared, shared] })).toBe('{"x":{"a":1},"y":[{"a":1},{"a":1}]}');
  });

  it('accepts the extreme safe integers', () => {
    expect(canonicalJson([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0])).toBe('[9007199254740991,-9007199254740991,0]');
  });
});

describe('canonicalJson fast pass', () => {
  const outcome = (f: () => string): string => {
    try {
      return `ok ${f()}`;
    } catch (e) {
      return isKarsError(e) ? e.code : `threw ${(e as Error).name}`;
    }
  };
  const nested = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : { a: nested(depth - 1, leaf) });
  const oddities: unknown[] = [
    Object.create(Array.prototype), Object.create(null), Object.assign(Object.create(null), { b: 1, a: [null] }),
    nested(CANONICAL_MAX_DEPTH, {}), nested(CANONICAL_MAX_DEPTH, []), nested(CANONICAL_MAX_DEPTH, 1),
    nested(CANONICAL_MAX_DEPTH, { x: 1 }), nested(CANONICAL_MAX_DEPTH + 1, 1), -0, 0.5, 2 ** 53, NaN, undefined,
    'a\ud800', { '\udc00': 1 }, [1, , 2], Object.defineProperty([1], 0, { get: () => 2 }), // eslint-disable-line no-sparse-arrays
    Object.defineProperty({}, 'g', { get: () => 1, enumerable: true }), { [Symbol('s')]: 1, a: 1 }, new Date(0),
  ];

  it('answers exactly as the explaining pass for valid and refused values alike', () => {
    for (const v of oddities) expect(outcome(() => canonicalJson(v))).toBe(outcome(() => explainCanonicalJson(v)));
    const anyValue = fc.oneof(jsonArb, fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withSparseArray: true, withNullPrototype: true }));
    assertProperty(fc.property(anyValue, (v) => outcome(() => canonicalJson(v)) === outcome(() => explainCanonicalJson(v))), { numRuns: 2000 });
  });

  it('canonicalString encodes one string as canonicalJson does and refuses a lone surrogate', () => {
    assertProperty(fc.property(fc.string({ unit: 'grapheme' }), (s) => canonicalString(s) === canonicalJson(s)));
    expect(codeOf(() => canonicalString('x\udbff'))).toBe('INPUT_INVALID');
  });
});
