// T4-E: the clamps and the decay are properties, not examples: any delta, any history, any elapsed time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applySignal } from '../../../core/trust/apply-signal';
import { clampDelta, clampScore, decayScore } from '../../../core/trust/score-math';
import { DEFAULT_TRUST_POLICY as P, resolveTrustPolicy } from '../../../core/trust/trust-policy';
import { assertProperty } from '../../support/property';

const score = fc.integer({ min: 0, max: 1000 });
const anyDelta = fc.oneof(fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity, 0.5));
const kind = fc.constantFrom('success', 'failure', 'content-safety', 'explicit') as fc.Arbitrary<'success' | 'failure' | 'content-safety' | 'explicit'>;

describe('trust score clamps', () => {
  it('every signal moves a score by at most ±200 from its decayed value and keeps it in 0..1000', () => {
    assertProperty(fc.property(score, fc.nat({ max: 10 ** 11 }), kind, anyDelta, (s, elapsed, k, delta) => {
      const prev = { score: s, atMs: 1_000 };
      const next = applySignal(prev, 0, { kind: k, delta, atMs: 1_000 + elapsed }, P);
      const base = decayScore(s, elapsed, P);
      expect(Math.abs(next.score - base)).toBeLessThanOrEqual(200);
      expect(next.score).toBeGreaterThanOrEqual(0);
      expect(next.score).toBeLessThanOrEqual(1000);
      expect(Number.isInteger(next.score)).toBe(true);
    }));
  });

  it('a sequence of n signals moves a score by at most 200·n, whatever the deltas', () => {
    assertProperty(fc.property(score, fc.array(anyDelta, { maxLength: 20 }), (s, deltas) => {
      let state = { score: s, atMs: 0 };
      for (const d of deltas) state = applySignal(state, 0, { kind: 'explicit', delta: d, atMs: 0 }, P);
      expect(Math.abs(state.score - s)).toBeLessThanOrEqual(200 * deltas.length);
    }));
  });

  it('is monotone in the delta: a larger delta never gives a lower score', () => {
    assertProperty(fc.property(score, fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -5000, max: 5000 }), (s, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const at = (d: number) => applySignal({ score: s, atMs: 0 }, 0, { kind: 'explicit', delta: d, atMs: 0 }, P).score;
      expect(at(lo)).toBeLessThanOrEqual(at(hi));
    }));
  });

  it('a new peer starts from the start value it is given, clamped (the applier caps it at the bootstrap cap)', () => {
    expect(applySignal(undefined, 500, { kind: 'success', atMs: 0 }, P).score).toBe(510);
    expect(applySignal(undefined, 5000, { kind: 'explicit', delta: 0, atMs: 0 }, P).score).toBe(1000);
  });

  it('clampDelta and clampScore handle non-numbers on the safe side', () => {
    expect(clampDelta(NaN, P)).toBe(0);
    expect(clampDelta(1e300, P)).toBe(200);
    expect(clampScore(NaN)).toBe(0);
    expect(clampScore(-3)).toBe(0);
    expect(clampScore(1e9)).toBe(1000);
  });

  it('without the delta-clamp mitigation a single signal jumps to the ceiling (the property has teeth)', () => {
    const off = resolveTrustPolicy({ _disable: ['delta-clamp'] });
    expect(applySignal({ score: 300, atMs: 0 }, 0, { kind: 'explicit', delta: 10_000, atMs: 0 }, off).score).toBe(1000);
  });
});

describe('trust decay', () => {
  it('never raises a score, never takes it below the decay target, and is monotone in elapsed time', () => {
    assertProperty(fc.property(score, fc.nat({ max: 10 ** 11 }), fc.nat({ max: 10 ** 11 }), (s, a, b) => {
      const [t1, t2] = a <= b ? [a, b] : [b, a];
      const d1 = decayScore(s, t1, P);
      const d2 = decayScore(s, t2, P);
      expect(d1).toBeLessThanOrEqual(s);
      expect(d2).toBeLessThanOrEqual(d1);
      expect(d2).toBeGreaterThanOrEqual(Math.min(s, P.decayTarget));
    }));
  });

  it('decays nothing for zero or negative elapsed time (out-of-order timestamps cannot rewind it)', () => {
    assertProperty(fc.property(score, fc.integer({ min: -(10 ** 9), max: 0 }), (s, negative) => {
      expect(decayScore(s, negative, P)).toBe(s);
      expect(decayScore(s, 0, P)).toBe(s);
    }));
  });

  it('halves the excess over the target every half-life (worked numbers)', () => {
    const h = P.decayHalfLifeMs;
    expect(decayScore(900, h, P)).toBe(700);
    expect(decayScore(900, 2 * h, P)).toBe(600);
    expect(decayScore(900, h / 2, P)).toBe(800);
    expect(decayScore(400, 10 * h, P)).toBe(400);
    expect(decayScore(1000, 100 * h, P)).toBe(500);
  });
});

describe('trust policy', () => {
  it('refuses a bootstrap cap above 500, an unknown score above it and deltas beyond ±200', () => {
    expect(() => resolveTrustPolicy({ bootstrapCap: 501 })).toThrow(/bootstrapCap/);
    expect(() => resolveTrustPolicy({ bootstrapCap: 400, unknownScore: 450 })).toThrow(/unknownScore/);
    expect(() => resolveTrustPolicy({ maxDeltaPerSignal: 201 })).toThrow(/maxDeltaPerSignal/);
    expect(() => resolveTrustPolicy({ signalDeltas: { success: 500, failure: -1, 'content-safety': -1 } })).toThrow(/signalDeltas/);
  });
});
