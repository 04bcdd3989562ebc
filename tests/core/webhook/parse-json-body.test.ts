import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../../core/webhook/parse-json-body';
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
  ])('%s → INPUT_INVALID at (root)', (_n, body) => {
    expect(parseJsonBody(body)).toEqual({ ok: false, code: 'INPUT_INVALID', paths: ['(root)'] });
  });

  it.each(['{"__proto__":{"polluted":1}}', '{"a":{"constructor":{"prototype":{"polluted":1}}}}', '[{"prototype":1}]'])(
    'refuses prototype-poisoning keys: %s',
    (text) => {
      expect(parseJsonBody(utf8(text))).toEqual({ ok: false, code: 'INPUT_INVALID', paths: ['(root)'] });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it.each(NOT_BYTES)('body = %s → TypeError', (_n, body) => {
    expect(() => parseJsonBody(body as Uint8Array)).toThrow(TypeError);
  });
});
