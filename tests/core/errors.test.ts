import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KARS_ERROR_STATUS, KarsError, isKarsError } from '../../core/errors';

const rows = readFileSync('docs/errors.md', 'utf8')
  .split('\n')
  .map((l) => /^\| ([A-Z][A-Z0-9_]+) \| (\d{3}) \|/.exec(l))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => [m[1]!, Number(m[2])] as const);

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of KARS_ERROR_STATUS with the same statuses', () => {
    expect(Object.fromEntries(rows)).toEqual({ ...KARS_ERROR_STATUS });
    expect(rows.length).toBe(new Set(rows.map((r) => r[0])).size);
  });

  it('maps every code to a 4xx or 5xx status', () => {
    for (const [code, status] of Object.entries(KARS_ERROR_STATUS)) expect(status >= 400 && status < 600, code).toBe(true);
  });

  it('recognises KarsError by name and code, not by prototype', () => {
    const e = new KarsError('STORE_CONFLICT', 'x');
    expect(isKarsError(e)).toBe(true);
    expect(isKarsError({ name: 'KarsError', code: 'STORE_CONFLICT' })).toBe(true);
    expect(isKarsError(new Error('x'))).toBe(false);
    expect(isKarsError(null)).toBe(false);
  });
});
