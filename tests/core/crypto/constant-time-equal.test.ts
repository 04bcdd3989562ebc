import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from '../../../core/crypto/constant-time-equal';
import { NOT_BYTES } from './hostile-values';

describe('constantTimeEqual', () => {
  it('is true exactly when the bytes are equal (property)', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const same = a.length === b.length && a.every((x, i) => x === b[i]);
        expect(constantTimeEqual(a, b)).toBe(same);
        expect(constantTimeEqual(a, a.slice())).toBe(true);
      }),
    );
  });

  it('returns false for different lengths instead of throwing (timingSafeEqual would throw)', () => {
    expect(constantTimeEqual(new Uint8Array(32), new Uint8Array(31))).toBe(false);
  });

  it('compares the viewed bytes of subarrays, not the start of the underlying buffer', () => {
    // The Standard Webhooks JS helper wraps `a.buffer` and ignores byteOffset; this is the case it gets wrong.
    const backing = new Uint8Array([9, 9, 1, 2, 3]);
    expect(constantTimeEqual(backing.subarray(2), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(backing.subarray(0, 3), new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it.each(NOT_BYTES)('throws TypeError for %s on either side', (_name, value) => {
    expect(() => constantTimeEqual(value as Uint8Array, new Uint8Array(1))).toThrow(TypeError);
    expect(() => constantTimeEqual(new Uint8Array(1), value as Uint8Array)).toThrow(TypeError);
  });
});
