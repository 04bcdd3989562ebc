import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import {
  assertBucketConfig, fullBucket, maxAdmittedInWindow, perSecond, settleTokens, takeTokens, takeUpTo,
  type TokenBucketConfig, type TokenBucketState,
} from '../../../core/limits/token-bucket';
import { NOT_NON_NEGATIVE_INTEGERS } from '../crypto/hostile-values';

const T0 = 1_700_000_000_000;
const configArb: fc.Arbitrary<TokenBucketConfig> = fc.record({
  capacity: fc.integer({ min: 1, max: 2000 }),
  refillTokens: fc.integer({ min: 1, max: 1000 }),
  refillPeriodMs: fc.constantFrom(1, 10, 1000, 60_000),
});
const stepsArb = fc.array(fc.record({ dtMs: fc.integer({ min: 0, max: 1500 }), n: fc.integer({ min: 1, max: 8 }) }), { maxLength: 120 });

/** Runs a request sequence against one bucket; returns (time, tokens) of every admitted request. */
function run(config: TokenBucketConfig, steps: ReadonlyArray<{ dtMs: number; n: number }>) {
  let state: TokenBucketState | undefined;
  let now = T0;
  const admitted: Array<{ t: number; n: number }> = [];
  for (const { dtMs, n } of steps) {
    now += dtMs;
    const r = takeTokens(state, now, n, config);
    if (r.allowed) {
      state = r.state;
      admitted.push({ t: now, n });
    } else {
      expect(r.state).toBe(state ?? r.state); // a denial hands back the input state: nothing to write
    }
  }
  return admitted;
}

describe('takeTokens: properties', () => {
  it('never admits more than burst + rate × t in ANY window [ti, tj] of the run', () => {
    assertProperty(
      fc.property(configArb, stepsArb, (config, steps) => {
        const admitted = run(config, steps);
        for (let i = 0; i < admitted.length; i += 1) {
          let tokens = 0;
          for (let j = i; j < admitted.length; j += 1) {
            tokens += admitted[j]!.n;
            const windowMs = admitted[j]!.t - admitted[i]!.t;
            // Compare scaled integers: tokens × period ≤ capacity × period + windowMs × refill.
            expect(tokens * config.refillPeriodMs).toBeLessThanOrEqual(config.capacity * config.refillPeriodMs + windowMs * config.refillTokens);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the level an integer within [0, capacity] units', () => {
    assertProperty(
      fc.property(configArb, stepsArb, (config, steps) => {
        let state: TokenBucketState | undefined;
        let now = T0;
        for (const { dtMs, n } of steps) {
          now += dtMs;
          const r = takeTokens(state, now, n, config);
          state = r.state;
          expect(Number.isSafeInteger(state.level)).toBe(true);
          expect(state.level).toBeGreaterThanOrEqual(0);
          expect(state.level).toBeLessThanOrEqual(config.capacity * config.refillPeriodMs);
        }
      }),
    );
  });

  it('admits after exactly retryAfterMs when nobody else takes (liveness), and not 1 ms earlier', () => {
    assertProperty(
      fc.property(configArb, stepsArb, fc.integer({ min: 1, max: 8 }), (config, steps, n) => {
        fc.pre(n <= config.capacity);
        let state: TokenBucketState | undefined;
        let now = T0;
        for (const s of steps) {
          now += s.dtMs;
          const r = takeTokens(state, now, s.n, config);
          state = r.state;
        }
        const r = takeTokens(state, now, n, config);
        if (r.allowed) return;
        expect(r.exceedsCapacity).toBe(false);
        expect(takeTokens(state, now + r.retryAfterMs, n, config).allowed).toBe(true);
        expect(takeTokens(state, now + r.retryAfterMs - 1, n, config).allowed).toBe(false);
      }),
    );
  });

  it('a clock that jumps backwards (another instance ahead) creates no tokens', () => {
    assertProperty(
      fc.property(configArb, fc.array(fc.record({ dtMs: fc.integer({ min: -2000, max: 1500 }), n: fc.integer({ min: 1, max: 8 }) }), { maxLength: 100 }), (config, steps) => {
        let state: TokenBucketState | undefined;
        let now = T0;
        // The bucket exists (full) from the first state written, i.e. the first admission: a denial writes nothing, so
        // a refused first request (n > capacity) at a clock reading later than the admitting one starts nothing.
        let start: number | undefined;
        let maxSeen = T0;
        let tokens = 0;
        for (const { dtMs, n } of steps) {
          now += dtMs;
          maxSeen = Math.max(maxSeen, now);
          const r = takeTokens(state, Math.max(0, now), n, config);
          if (r.allowed) {
            start ??= now;
            state = r.state;
            tokens += n;
          }
        }
        expect(tokens * config.refillPeriodMs).toBeLessThanOrEqual(config.capacity * config.refillPeriodMs + (maxSeen - (start ?? T0)) * config.refillTokens);
      }),
    );
  });
});

describe('takeTokens: examples at the seed limits', () => {
  const global = perSecond(500, 1000);

  it('admits the burst of 1000 at once, then refuses with Retry-After 2 ms (one token at 500/s)', () => {
    let state: TokenBucketState | undefined;
    for (let i = 0; i < 1000; i += 1) {
      const r = takeTokens(state, T0, 1, global);
      expect(r.allowed).toBe(true);
      state = r.state;
    }
    expect(takeTokens(state, T0, 1, global)).toEqual({ allowed: false, state, retryAfterMs: 2, exceedsCapacity: false });
    expect(takeTokens(state, T0 + 2, 1, global).allowed).toBe(true);
  });

  it('reports the remaining whole tokens and refuses n > capacity as never passing', () => {
    expect(takeTokens(undefined, T0, 10, perSecond(50, 100))).toMatchObject({ allowed: true, remaining: 90 });
    expect(takeTokens(undefined, T0, 101, perSecond(50, 100))).toMatchObject({ allowed: false, exceedsCapacity: true });
  });

  it('refills continuously, not in steps, also for sub-token-per-ms rates (30 per minute)', () => {
    const slow: TokenBucketConfig = { capacity: 1, refillTokens: 30, refillPeriodMs: 60_000 };
    const first = takeTokens(undefined, T0, 1, slow);
    expect(first.allowed).toBe(true);
    const denied = takeTokens(first.state, T0 + 1999, 1, slow);
    expect(denied).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(takeTokens(first.state, T0 + 2000, 1, slow).allowed).toBe(true);
  });

  it('survives a year of idleness without overflow', () => {
    const r = takeTokens({ level: 0, atMs: T0 }, T0 + 365 * 86_400_000, 1, global);
    expect(r).toMatchObject({ allowed: true, remaining: 999 });
  });

  it('clamps a stored level above a lowered capacity', () => {
    const r = takeTokens({ level: 5_000_000, atMs: T0 }, T0, 1, global);
    expect(r).toMatchObject({ allowed: true, remaining: 999 });
  });

  it('a refused first request leaves no bucket: the bucket starts at the first admission, even on a clock behind it', () => {
    // fast-check seed 1044136487's counterexample: 3 tokens refused at T0 (capacity 2), the bucket created full at
    // T0 - 1 by a clock 1 ms behind, and at T0 + 1 it has refilled the 2 ms since then: 4 tokens = 2 + 2 × 1/ms.
    const cfg: TokenBucketConfig = { capacity: 2, refillTokens: 1, refillPeriodMs: 1 };
    const refused = takeTokens(undefined, T0, 3, cfg);
    expect(refused).toMatchObject({ allowed: false, exceedsCapacity: true });
    let state: TokenBucketState | undefined;
    const admitted: number[] = [];
    for (const [t, n] of [[T0 - 1, 1], [T0 - 940, 1], [T0 - 1941, 1], [T0 - 2984, 1], [T0 - 1487, 1], [T0 + 1, 2]] as const) {
      const r = takeTokens(state, t, n, cfg);
      if (r.allowed) {
        state = r.state;
        admitted.push(n);
      }
    }
    expect(admitted).toEqual([1, 1, 2]);
    expect(state).toEqual({ level: 0, atMs: T0 + 1 });
  });

  it('maxAdmittedInWindow is burst + rate × window', () => {
    expect(maxAdmittedInWindow(global, 1000)).toBe(1500);
    expect(maxAdmittedInWindow(perSecond(50, 100), 1000)).toBe(150);
  });
});

describe('takeUpTo and settleTokens', () => {
  const cfg = perSecond(500, 1000);
  it('grants up to max whole tokens, then what is left, then 0 with a retry delay', () => {
    const a = takeUpTo({ level: 10_500, atMs: T0 }, T0, 8, cfg);
    expect(a.granted).toBe(8);
    const b = takeUpTo(a.state, T0, 8, cfg);
    expect(b.granted).toBe(2);
    const c = takeUpTo(b.state, T0, 8, cfg);
    expect(c).toEqual({ granted: 0, state: b.state, retryAfterMs: 1 });
  });

  it('settles a reservation: refund raises the level, excess becomes debt that delays later takes', () => {
    const start = fullBucket(cfg, T0);
    const reserved = takeTokens(start, T0, 100, cfg);
    expect(reserved.allowed).toBe(true);
    const refunded = settleTokens(reserved.state, T0, 100, 40, cfg);
    expect(refunded.level).toBe((1000 - 40) * 1000);
    const debt = settleTokens({ level: 0, atMs: T0 }, T0, 10, 60, cfg);
    expect(debt.level).toBe(-50_000);
    expect(takeTokens(debt, T0, 1, cfg)).toMatchObject({ allowed: false, retryAfterMs: 102 });
  });
});

describe('hostile inputs', () => {
  it.each(NOT_NON_NEGATIVE_INTEGERS)('nowMs / n = %s → throws', (_n, v) => {
    expect(() => takeTokens(undefined, v as number, 1, perSecond(1, 1))).toThrow();
    expect(() => takeTokens(undefined, T0, v as number, perSecond(1, 1))).toThrow();
  });
  it('refuses n = 0, a corrupt state, and bad configurations', () => {
    expect(() => takeTokens(undefined, T0, 0, perSecond(1, 1))).toThrow(RangeError);
    expect(() => takeTokens({ level: 1.5, atMs: T0 }, T0, 1, perSecond(1, 1))).toThrow(TypeError);
    expect(() => takeTokens({ level: '1' as never, atMs: T0 }, T0, 1, perSecond(1, 1))).toThrow(TypeError);
    expect(() => takeTokens(null as never, T0, 1, perSecond(1, 1))).toThrow(TypeError);
    expect(() => perSecond(0, 10)).toThrow(RangeError);
    expect(() => perSecond(1.5, 10)).toThrow(RangeError);
    expect(() => assertBucketConfig({ capacity: 2 ** 50, refillTokens: 1, refillPeriodMs: 60_000 })).toThrow(RangeError);
  });
});
