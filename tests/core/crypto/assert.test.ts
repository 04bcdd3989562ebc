import { describe, expect, it } from 'vitest';
import { abytes, aintIn, anumber, isBytes } from '../../../core/crypto/assert';
import { NOT_BYTES, NOT_NON_NEGATIVE_INTEGERS } from './hostile-values';

describe('abytes', () => {
  it('returns the same Uint8Array (and Buffer, its subclass) when the type and length fit', () => {
    const u = new Uint8Array(32);
    expect(abytes(u, 32, 'key')).toBe(u);
    const b = Buffer.alloc(3);
    expect(abytes(b)).toBe(b);
  });

  it.each(NOT_BYTES)('throws TypeError for %s', (_name, value) => {
    expect(() => abytes(value, undefined, 'body')).toThrow(TypeError);
    expect(isBytes(value)).toBe(false);
  });

  it('throws RangeError with the noble-style message for a wrong length', () => {
    expect(() => abytes(new Uint8Array(31), 32, 'identityKey')).toThrow(
      new RangeError('"identityKey" expected Uint8Array of length 32, got length=31'),
    );
  });

  it('never prints the value in its message (it may be a secret)', () => {
    try {
      abytes('canary-secret-value', undefined, 'key');
      expect.unreachable();
    } catch (e) {
      expect(String(e)).not.toContain('canary-secret-value');
    }
  });
});

describe('anumber', () => {
  it('accepts 0 and the largest safe integer', () => {
    expect(anumber(0)).toBe(0);
    expect(anumber(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(NOT_NON_NEGATIVE_INTEGERS)('refuses %s', (_name, value) => {
    expect(() => anumber(value, 'nowMs')).toThrow(typeof value === 'number' ? RangeError : TypeError);
  });
});

describe('aintIn', () => {
  it('accepts both bounds and returns the value', () => {
    expect(aintIn(1000, 1000, 3600)).toBe(1000);
    expect(aintIn(3600, 1000, 3600)).toBe(3600);
  });

  it.each([999, 3601, 1000.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2])('refuses %s with a RangeError naming the range', (value) => {
    expect(() => aintIn(value, 1000, 3600, 'windowMs')).toThrow(new RangeError(`"windowMs" expected an integer in 1000..3600, got ${String(value)}`));
  });

  it.each(['1000', null, undefined, {}, 1000n])('refuses the non-number %s with a TypeError that names the type only', (value) => {
    expect(() => aintIn(value, 1000, 3600, 'windowMs')).toThrow(/^"windowMs" expected an integer in 1000\.\.3600, got type=\w+$/);
    expect(() => aintIn(value, 1000, 3600, 'windowMs')).toThrow(TypeError);
  });
});
