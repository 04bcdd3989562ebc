import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { FAST_PATH_MAX_OPENERS, parseJsonBody } from '../../../core/webhook/parse-json-body';
import { NOT_BYTES } from '../crypto/hostile-values';
import { utf8 } from './helpers';

describe('parseJsonBody', () => {
  it('parses UTF-8 JSON, including non-ASCII text', () => {
    expect(parseJsonBody(utf8('{"a":"♥","b":[1,null]}'))).toEqual({ ok: true, value: { a: '♥', b: [1, null] } });
  });

  it.each([
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['truncated JSON', utf8('{"a":')],
    ['empty body', new Uint8Array(0)],
    ['trailing garbage', utf8('{} x')],
    ['deeply nested arrays', utf8('['.repeat(200_000) + ']'.repeat(200_000))],
  ])('%s → HTTP_BODY_MALFORMED at (root)', (_n, body) => {
    expect(parseJsonBody(body)).toEqual({ ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] });
  });

  it.each(['{"__proto__":{"polluted":1}}', '{"a":{"constructor":{"prototype":{"polluted":1}}}}', '[{"prototype":1}]'])(
    'refuses prototype-poisoning keys: %s',
    (text) => {
      expect(parseJsonBody(utf8(text))).toEqual({ ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it.each(NOT_BYTES)('body = %s → TypeError', (_n, body) => {
    expect(() => parseJsonBody(body as Uint8Array)).toThrow(TypeError);
  });

  it.each([
    ['an escaped __proto__ key', '{"\\u005f_proto__":{"polluted":1}}'],
    ['an escaped constructor key', '{"a":{"c\\u006fnstructor":{"prototype":{"polluted":1}}}}'],
    ['an escaped prototype key in an array', '[{"prot\\u006ftype":1}]'],
  ])('refuses %s (the fast path never sees escapes)', (_n, text) => {
    expect(parseJsonBody(utf8(text))).toEqual({ ok: false, code: 'HTTP_BODY_MALFORMED', paths: ['(root)'] });
  });

  it('accepts the poisoning names and escapes inside string values', () => {
    const text = '{"a":"constructor","b":"__proto__ and prototype","c":"caf\\u00e9"}';
    expect(parseJsonBody(utf8(text))).toEqual({ ok: true, value: { a: 'constructor', b: '__proto__ and prototype', c: 'café' } });
  });

  it('parses nesting on both sides of the fast-path bound the same way', () => {
    for (const depth of [FAST_PATH_MAX_OPENERS, FAST_PATH_MAX_OPENERS + 1, 1000]) {
      const text = '['.repeat(depth) + ']'.repeat(depth);
      expect(parseJsonBody(utf8(text))).toEqual({ ok: true, value: JSON.parse(text) });
    }
  });

  it('gives exactly what a reviver pass over every value gives (property)', () => {
    // Reference: the slow path unconditionally (what this function did before the fast path existed).
    const reference = (text: string): unknown => {
      let poisoned = false;
      let value: unknown;
      try {
        value = JSON.parse(text, (key: string, v: unknown) => {
          if (key === '__proto__' || key === 'constructor' || key === 'prototype') poisoned = true;
          return v;
        });
      } catch {
        return 'invalid';
      }
      return poisoned ? 'invalid' : value;
    };
    const key = fc.constantFrom('a', 'type', '__proto__', 'constructor', 'prototype', 'c\\u006fnstructor', 'x\\u0079', '\\u005f_proto__');
    const leaf = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string().map((t) => JSON.stringify(t).slice(1, -1)));
    const json = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))),
        fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
        fc.array(fc.tuple(key, tie('node')), { maxLength: 4 }).map((pairs) => `{${pairs.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
      ),
    })).node;
    assertProperty(fc.property(json, (text) => {
      const got = parseJsonBody(utf8(text));
      const want = reference(text);
      if (want === 'invalid') expect(got.ok).toBe(false);
      else expect(got).toEqual({ ok: true, value: want });
    }), { numRuns: 500 });
  });
});
