import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { isSafeDeliveryId, parseUnixSeconds, withinTolerance } from '../../../core/webhook/header-values';

describe('parseUnixSeconds', () => {
  it('round-trips every canonical integer (property)', () => {
    assertProperty(fc.property(fc.integer({ min: 0, max: 999_999_999_999 }), (n) => {
      expect(parseUnixSeconds(String(n))).toBe(n);
    }));
  });
  it('refuses every non-canonical spelling (property: parseUnixSeconds(s) defined ⇒ String(n) === s)', () => {
    assertProperty(
      fc.property(fc.string({ maxLength: 14 }), (s) => {
        const n = parseUnixSeconds(s);
        if (n !== undefined) expect(String(n)).toBe(s);
      }),
    );
  });
});

describe('withinTolerance', () => {
  it('is symmetric and inclusive at the boundary', () => {
    const nowMs = 1_000_000_999; // now = 1 000 000 s, with sub-second part ignored
    expect(withinTolerance(1_000_000 - 300, nowMs, 300)).toBe(true);
    expect(withinTolerance(1_000_000 + 300, nowMs, 300)).toBe(true);
    expect(withinTolerance(1_000_000 - 301, nowMs, 300)).toBe(false);
    expect(withinTolerance(1_000_000 + 301, nowMs, 300)).toBe(false);
  });
});

describe('isSafeDeliveryId', () => {
  it.each(['msg_p5jXN8AQM9LWM0D4loKWxJek', '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'Ev08MFMKH6', '1:abc+/=@x'])('accepts %j', (id) => {
    expect(isSafeDeliveryId(id)).toBe(true);
  });
  it.each(['', 'a.b', 'a b', 'a\nb', 'ä', 'x'.repeat(257), 1, null])('refuses %j', (id) => {
    expect(isSafeDeliveryId(id)).toBe(false);
  });
});
