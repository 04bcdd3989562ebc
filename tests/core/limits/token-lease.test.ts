import { describe, expect, it } from 'vitest';
import { maxAdmittedInWindow, perSecond, takeUpTo, type TokenBucketConfig, type TokenBucketState } from '../../../core/limits/token-bucket';
import { leaseChunkSize, leaseFromGrant, spendFromLease, type TokenLease } from '../../../core/limits/token-lease';

const T0 = 1_700_000_000_000;

describe('spendFromLease / leaseFromGrant / leaseChunkSize', () => {
  it('spends until empty or expired', () => {
    const lease = leaseFromGrant(3, 1, T0, 250);
    expect(lease).toEqual({ tokens: 2, expiresAtMs: T0 + 250 });
    const once = spendFromLease(lease, T0 + 10);
    expect(once).toEqual({ tokens: 1, expiresAtMs: T0 + 250 });
    expect(spendFromLease(spendFromLease(once, T0 + 11), T0 + 12)).toBeUndefined();
    expect(spendFromLease(lease, T0 + 250)).toBeUndefined();
    expect(spendFromLease(undefined, T0)).toBeUndefined();
  });

  it('carries unexpired tokens of the previous lease into the next, and drops expired ones', () => {
    const previous = { tokens: 2, expiresAtMs: T0 + 100 };
    expect(leaseFromGrant(8, 1, T0 + 50, 250, previous)).toEqual({ tokens: 9, expiresAtMs: T0 + 300 });
    expect(leaseFromGrant(8, 1, T0 + 100, 250, previous)).toEqual({ tokens: 7, expiresAtMs: T0 + 350 });
  });

  it('sizes chunks so P × chunk stays within the overshoot share of the rate', () => {
    expect(leaseChunkSize(perSecond(500, 1000), { processes: 3 })).toBe(8);
    expect(leaseChunkSize(perSecond(50, 100), { processes: 3 })).toBe(1);
    expect(leaseChunkSize(perSecond(50, 100), { processes: 1, overshootFraction: 0.1 })).toBe(5);
    expect(() => leaseChunkSize(perSecond(1, 1), { processes: 1, overshootFraction: 2 })).toThrow(RangeError);
  });
});

/**
 * Discrete-event model of several Function instances sharing one bucket document under ETag compare-and-swap:
 * a read at the start of a refill, the write lands `latencyMs` later and fails (412) if another write landed in
 * between, in which case the instance re-reads and retries (at most 5 attempts, then refuses what waits). Each
 * instance keeps a local lease and runs one refill at a time; requests arriving meanwhile wait for it.
 * The real multi-process test runs the same logic against the real store; this one checks the arithmetic.
 */
function simulate(config: TokenBucketConfig, opts: { processes: number; offeredPerSec: number; durationMs: number; latencyMs: number; ttlMs: number; seed: number }) {
  const chunk = leaseChunkSize(config, { processes: opts.processes });
  let rnd = opts.seed >>> 0;
  const random = () => ((rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  type Ev = { t: number; p: number; commit?: { readEtag: number; state: TokenBucketState; granted: number; attempt: number } };
  const events: Ev[] = [];
  const total = Math.round((opts.offeredPerSec * opts.durationMs) / 1000);
  for (let i = 0; i < total; i += 1) events.push({ t: T0 + Math.floor(random() * opts.durationMs), p: Math.floor(random() * opts.processes) });
  events.sort((a, b) => a.t - b.t);
  const schedule = (ev: Ev) => {
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]!.t <= ev.t) lo = mid + 1;
      else hi = mid;
    }
    events.splice(lo, 0, ev);
  };
  const doc: { state: TokenBucketState | undefined; etag: number } = { state: undefined, etag: 0 };
  const procs = Array.from({ length: opts.processes }, () => ({ lease: undefined as TokenLease | undefined, inflight: false, waiting: 0 }));
  const admitted: number[] = [];
  let writes = 0;
  let conflicts = 0;
  const startRefill = (p: number, t: number, attempt: number) => {
    const r = takeUpTo(doc.state, t, chunk, config, { min: chunk });
    if (r.granted === 0) {
      procs[p]!.waiting = 0; // everyone waiting is refused: 429, no write
      procs[p]!.inflight = false;
      return;
    }
    procs[p]!.inflight = true;
    schedule({ t: t + opts.latencyMs, p, commit: { readEtag: doc.etag, state: r.state, granted: r.granted, attempt } });
  };
  while (events.length > 0) {
    const ev = events.shift()!;
    const proc = procs[ev.p]!;
    if (ev.commit === undefined) {
      const spent = spendFromLease(proc.lease, ev.t);
      if (spent !== undefined) {
        proc.lease = spent;
        admitted.push(ev.t);
      } else {
        proc.waiting += 1;
        if (!proc.inflight) startRefill(ev.p, ev.t, 1);
      }
      continue;
    }
    if (ev.commit.readEtag !== doc.etag) {
      conflicts += 1;
      if (ev.commit.attempt < 5) startRefill(ev.p, ev.t, ev.commit.attempt + 1);
      else {
        proc.waiting = 0;
        proc.inflight = false;
      }
      continue;
    }
    doc.state = ev.commit.state;
    doc.etag += 1;
    writes += 1;
    proc.inflight = false;
    let lease: TokenLease | undefined = leaseFromGrant(ev.commit.granted, 0, ev.t, opts.ttlMs, proc.lease);
    while (proc.waiting > 0 && lease !== undefined && lease.tokens > 0) {
      lease = spendFromLease(lease, ev.t);
      proc.waiting -= 1;
      admitted.push(ev.t);
    }
    proc.lease = lease;
    if (proc.waiting > 0) startRefill(ev.p, ev.t, 1);
  }
  admitted.sort((a, b) => a - b);
  return { admitted, writes, conflicts, chunk };
}

/** Largest and smallest count over all 1 s windows [w, w + 1000) with w in [fromMs, toMs - 1000], 10 ms steps. */
function windowCounts(times: number[], fromMs: number, toMs: number) {
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (let w = fromMs; w + 1000 <= toMs; w += 10) {
    const count = times.filter((t) => t >= w && t < w + 1000).length;
    max = Math.max(max, count);
    min = Math.min(min, count);
  }
  return { max, min };
}

describe('shared bucket + leases across 3 simulated instances (seed limits)', () => {
  it('global 500 rps (burst 1000) under 6× overload: every 1 s window ≤ burst + rate + 3 × chunk; steady state within 10 %', () => {
    const cfg = perSecond(500, 1000);
    const sim = simulate(cfg, { processes: 3, offeredPerSec: 3000, durationMs: 6000, latencyMs: 3, ttlMs: 250, seed: 7 });
    const all = windowCounts(sim.admitted, T0, T0 + 6000);
    expect(all.max).toBeLessThanOrEqual(maxAdmittedInWindow(cfg, 1000) + 3 * sim.chunk);
    const steady = windowCounts(sim.admitted, T0 + 2500, T0 + 6000);
    expect(steady.max).toBeLessThanOrEqual(550);
    expect(steady.min).toBeGreaterThanOrEqual(450);
    // Leases cut writes: far fewer than one per admitted request.
    expect(sim.writes).toBeLessThan(sim.admitted.length / 4);
  });

  it('per-agent 50 rps (burst 100): the same bounds hold with chunk 1 (a write per request)', () => {
    const cfg = perSecond(50, 100);
    const sim = simulate(cfg, { processes: 3, offeredPerSec: 400, durationMs: 6000, latencyMs: 3, ttlMs: 250, seed: 11 });
    expect(sim.chunk).toBe(1);
    expect(windowCounts(sim.admitted, T0, T0 + 6000).max).toBeLessThanOrEqual(maxAdmittedInWindow(cfg, 1000) + 3);
    const steady = windowCounts(sim.admitted, T0 + 3000, T0 + 6000);
    expect(steady.max).toBeLessThanOrEqual(55);
    expect(steady.min).toBeGreaterThanOrEqual(45);
  });
});
