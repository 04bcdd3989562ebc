// The circuit breaker state machine (T2-D, T3-D): examples and fast-check properties over random call/outcome/time
// sequences (fast-check prints the seed and the shrunk sequence on failure).
import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import {
  admitCall, assertBreakerConfig, CLOSED, recordOutcome, type CircuitBreakerConfig, type CircuitState,
} from '../../../core/limits/circuit-breaker';
import { CircuitBreakerSet } from '../../../core/limits/circuit-breaker-set';
import { settableClock } from '../edge/edge-fixture';

const cfg: CircuitBreakerConfig = { failureThreshold: 3, windowMs: 60_000, openMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 10_000 };

describe('circuit breaker examples', () => {
  it('opens on the 3rd failure within the window, not when failures are spread out', () => {
    let s: CircuitState = CLOSED;
    s = recordOutcome(s, false, false, 0, cfg);
    s = recordOutcome(s, false, false, 59_999, cfg);
    expect(s.phase).toBe('closed');
    s = recordOutcome(s, false, false, 61_000, cfg); // the first one left the window
    expect(s.phase).toBe('closed');
    s = recordOutcome(s, false, false, 61_001, cfg);
    expect(s).toEqual({ phase: 'open', untilMs: 91_001 });
  });

  it('half-open admits one probe; its success closes, its failure reopens; stale outcomes are ignored', () => {
    const open: CircuitState = { phase: 'open', untilMs: 100 };
    expect(admitCall(open, 99, cfg)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    const a = admitCall(open, 100, cfg);
    expect(a).toMatchObject({ allowed: true, probe: true });
    expect(admitCall(a.state, 101, cfg).allowed).toBe(false);
    expect(recordOutcome(a.state, true, false, 102, cfg)).toBe(a.state); // a pre-open call finishing late
    expect(recordOutcome(a.state, true, true, 102, cfg)).toEqual(CLOSED);
    expect(recordOutcome(a.state, false, true, 102, cfg)).toEqual({ phase: 'open', untilMs: 30_102 });
    // A lost probe is forgotten after probeTimeoutMs.
    expect(admitCall(a.state, 100 + cfg.probeTimeoutMs, cfg)).toMatchObject({ allowed: true, probe: true });
  });

  it('validates its configuration', () => {
    expect(() => assertBreakerConfig({ ...cfg, failureThreshold: 0 })).toThrow(RangeError);
    expect(() => assertBreakerConfig({ ...cfg, openMs: -1 })).toThrow(RangeError);
  });

  it('CircuitBreakerSet keys breakers independently and frees a released probe', () => {
    const clock = settableClock(0);
    const set = new CircuitBreakerSet(clock, cfg);
    for (let i = 0; i < 3; i += 1) set.record(set.admit('a'), false);
    expect(set.admit('a').allowed).toBe(false);
    expect(set.admit('b').allowed).toBe(true);
    clock.advance(30_000);
    const probe = set.admit('a');
    expect(probe).toMatchObject({ allowed: true, probe: true });
    expect(set.admit('a').allowed).toBe(false);
    set.release(probe);
    expect(set.admit('a')).toMatchObject({ allowed: true, probe: true });
  });
});

type Op = { kind: 'advance'; ms: number } | { kind: 'admit' } | { kind: 'finish'; index: number; ok: boolean };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  fc.record({ kind: fc.constant('admit' as const) }),
  fc.record({ kind: fc.constant('finish' as const), index: fc.nat(), ok: fc.boolean() }),
);
const config: fc.Arbitrary<CircuitBreakerConfig> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 5 }), windowMs: fc.integer({ min: 1, max: 60_000 }),
  openMs: fc.integer({ min: 1, max: 60_000 }), halfOpenProbes: fc.integer({ min: 1, max: 3 }),
  probeTimeoutMs: fc.integer({ min: 1, max: 60_000 }),
});

describe('circuit breaker properties', () => {
  it('never admits while open, never exceeds the probe limit, opens at the threshold, and only probes change half-open', () => {
    assertProperty(fc.property(config, fc.array(op, { maxLength: 200 }), (c, ops) => {
      let s: CircuitState = CLOSED;
      let now = 0;
      const pending: Array<{ probe: boolean; atMs: number }> = [];
      for (const o of ops) {
        if (o.kind === 'advance') { now += o.ms; continue; }
        if (o.kind === 'admit') {
          const before = s;
          const a = admitCall(s, now, c);
          if (before.phase === 'open' && now < before.untilMs) expect(a.allowed).toBe(false);
          if (before.phase === 'closed') expect(a).toMatchObject({ allowed: true, probe: false });
          if (!a.allowed) expect(a.retryAfterMs).toBeGreaterThan(0);
          s = a.state;
          if (s.phase === 'half-open') expect(s.probes.length).toBeLessThanOrEqual(c.halfOpenProbes);
          if (a.allowed) pending.push({ probe: a.probe, atMs: now });
          continue;
        }
        if (pending.length === 0) continue;
        const [t] = pending.splice(o.index % pending.length, 1);
        const before = s;
        s = recordOutcome(s, o.ok, t!.probe, now, c);
        if (before.phase === 'open') expect(s).toBe(before);
        if (before.phase === 'half-open' && !t!.probe) expect(s).toBe(before);
        if (before.phase === 'half-open' && t!.probe) expect(s).toEqual(o.ok ? CLOSED : { phase: 'open', untilMs: now + c.openMs });
        if (before.phase === 'closed' && !o.ok) {
          const inWindow = before.failures.filter((f) => now - f < c.windowMs).length + 1;
          expect(s.phase).toBe(inWindow >= c.failureThreshold ? 'open' : 'closed');
        }
        if (s.phase === 'closed') expect(s.failures.length).toBeLessThan(c.failureThreshold);
      }
    }), { numRuns: 300 });
  });
});
