import { describe, expect, it } from 'vitest';
import { createSharedEdgeLimiter, DEFAULT_CLUSTER_BUDGET, type SharedEdgeLimiterOptions } from '../../../adapters/edge-limiter/shared-edge-limiter';
import { limitDocumentKey } from '../../../adapters/edge-limiter/limit-documents';
import { isKarsError } from '../../../core/errors';
import { DEFAULT_AGENT_LIMIT, DEFAULT_GLOBAL_LIMIT } from '../../../core/limits/edge-admission';
import { maxAdmittedInWindow, perSecond } from '../../../core/limits/token-bucket';
import type { EdgeAdmission } from '../../../core/ports/edge-limiter.port';
import type { Logger, LogFields } from '../../../core/ports/logger.port';
import { fakeClock, TestStore } from './test-store';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR);
const WIDE = perSecond(100_000, 200_000);
/** Only the global bucket binds. */
const GLOBAL_ONLY: SharedEdgeLimiterOptions = { agent: WIDE, tenantBudget: { requestRate: WIDE }, cluster: false };

async function admitMany(limiter: { admit(t: string, a: string, n?: number): Promise<EdgeAdmission> }, n: number, tenant = 't', agent = (i: number) => `a${i % 7}`) {
  const out = await Promise.all(Array.from({ length: n }, (_, i) => limiter.admit(tenant, agent(i))));
  return { allowed: out.filter((a) => a.outcome === 'allowed').length, answers: out };
}

describe('createSharedEdgeLimiter: one instance', () => {
  it('admits the global burst, then the refill rate (less at most one chunk waiting in the bucket)', async () => {
    const clock = fakeClock(T0);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), { ...GLOBAL_ONLY, clock });
    const chunk = limiter.chunks.global;
    expect((await admitMany(limiter, 1200)).allowed).toBe(DEFAULT_GLOBAL_LIMIT.capacity);
    clock.advance(1000);
    const second = (await admitMany(limiter, 1200)).allowed;
    expect(second).toBeLessThanOrEqual(DEFAULT_GLOBAL_LIMIT.refillTokens);
    expect(second).toBeGreaterThan(DEFAULT_GLOBAL_LIMIT.refillTokens - chunk);
  });

  it('answers 429 with the wait and the scope, and the seed numbers are the defaults', async () => {
    const clock = fakeClock(T0);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), { clock, cluster: false, tenantBudget: { requestRate: WIDE } });
    const { answers } = await admitMany(limiter, DEFAULT_AGENT_LIMIT.capacity + 5, 't', () => 'one-agent');
    expect(answers.filter((a) => a.outcome === 'allowed')).toHaveLength(DEFAULT_AGENT_LIMIT.capacity);
    const refused = answers.find((a) => a.outcome !== 'allowed');
    expect(refused).toMatchObject({ outcome: 'rate-limited', scope: 'agent' });
    expect(refused?.outcome === 'rate-limited' && refused.retryAfterMs).toBeGreaterThanOrEqual(1000 / DEFAULT_AGENT_LIMIT.refillTokens);
  });

  it('answers a flood against an empty bucket from memory: no store call per refused request', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const limiter = createSharedEdgeLimiter(store, { ...GLOBAL_ONLY, clock });
    await admitMany(limiter, 1000);
    const before = store.calls.read;
    const { allowed } = await admitMany(limiter, 5000);
    expect(allowed).toBe(0);
    // A handful of refills while the first refusal is being learnt, then nothing.
    expect(store.calls.read - before).toBeLessThanOrEqual(5);
  });

  it('serves a quiet agent while another agent is limited', async () => {
    const clock = fakeClock(T0);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), { clock, cluster: false });
    await admitMany(limiter, 300, 't', () => 'hot');
    expect((await admitMany(limiter, 20, 't', () => 'quiet')).allowed).toBe(20);
  });
});

describe('createSharedEdgeLimiter: several instances on one store (T1-D)', () => {
  async function simulate(shared: boolean, options: SharedEdgeLimiterOptions, agent: (i: number) => string, perStep: number) {
    const clock = fakeClock(T0);
    const stores = [new TestStore(clock), new TestStore(clock), new TestStore(clock)];
    const limiters = stores.map((s) => createSharedEdgeLimiter(shared ? stores[0]! : s, { ...options, clock, instances: 3 }));
    const admittedAt: number[] = [];
    for (let step = 0; step < 400; step += 1) {
      clock.advance(10);
      await Promise.all(limiters.map(async (l) => {
        const answers = await Promise.all(Array.from({ length: perStep }, (_, k) => l.admit('t', agent(step * perStep + k))));
        for (const a of answers) if (a.outcome === 'allowed') admittedAt.push(clock.t);
      }));
    }
    return { admittedAt, limiters, stores };
  }

  function windows(times: number[], from: number, to: number): { min: number; max: number } {
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let s = from; s + 1000 <= to; s += 10) {
      const n = times.filter((t) => t >= s && t < s + 1000).length;
      min = Math.min(min, n);
      max = Math.max(max, n);
    }
    return { min, max };
  }

  it('keeps three instances at one global limit; three stores admit three times as much', async () => {
    const on = await simulate(true, GLOBAL_ONLY, (i) => `a${i % 9}`, 10);
    const chunk = on.limiters[0]!.chunks.global;
    const rate = DEFAULT_GLOBAL_LIMIT.refillTokens;
    // 4 s at 3000 rps offered: burst plus 4 s of refill, give or take what the leases hold.
    const supply = DEFAULT_GLOBAL_LIMIT.capacity + 4 * rate;
    expect(on.admittedAt.length).toBeLessThanOrEqual(supply + 3 * chunk);
    expect(on.admittedAt.length).toBeGreaterThanOrEqual(supply - 4 * chunk);
    const all = windows(on.admittedAt, T0, T0 + 4010);
    expect(all.max).toBeLessThanOrEqual(maxAdmittedInWindow(DEFAULT_GLOBAL_LIMIT, 1000) + 3 * chunk);
    const steady = windows(on.admittedAt, T0 + 1000, T0 + 4010);
    expect(steady.max).toBeLessThanOrEqual(rate * 1.1);
    expect(steady.min).toBeGreaterThanOrEqual(rate * 0.9);

    const off = await simulate(false, GLOBAL_ONLY, (i) => `a${i % 9}`, 10);
    expect(off.admittedAt.length).toBeGreaterThanOrEqual(3 * (supply - 2 * chunk));
  });

  it('keeps one agent at its limit across three instances', async () => {
    const on = await simulate(true, { cluster: false }, () => 'hot', 1);
    const rate = DEFAULT_AGENT_LIMIT.refillTokens;
    const steady = windows(on.admittedAt, T0 + 1500, T0 + 4010);
    expect(steady.max).toBeLessThanOrEqual(rate * 1.1);
    expect(steady.min).toBeGreaterThanOrEqual(rate * 0.9);
    const off = await simulate(false, { cluster: false }, () => 'hot', 1);
    expect(windows(off.admittedAt, T0 + 1500, T0 + 4010).min).toBeGreaterThanOrEqual(rate * 3 * 0.9);
  });

  it('writes the store about once per chunk, not per request', async () => {
    // Defaults everywhere (tenant budget, cluster budget), 27 agents so no agent bucket binds, just under the global rate.
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const limiters = [0, 1, 2].map(() => createSharedEdgeLimiter(store, { clock, instances: 3 }));
    let admitted = 0;
    for (let step = 0; step < 300; step += 1) {
      clock.advance(10);
      const answers = await Promise.all(limiters.flatMap((l, p) => [0, 1].map((k) => l.admit(`tenant-${k}`, `agent-${(step + p * 2 + k) % 27}`))));
      admitted += answers.filter((a) => a.outcome === 'allowed').length;
    }
    const c = limiters[0]!.chunks;
    const perRequest = store.writes / admitted;
    const attempts = store.calls.create + store.calls.replace;
    console.log(`shared limiter, defaults, 3 instances: ${admitted} admitted, ${store.writes} store writes ` +
      `(${perRequest.toFixed(3)} per admitted; ${attempts} write attempts including lost races), chunks ${JSON.stringify(c)}`);
    expect(admitted).toBe(300 * 6);
    expect(limiters.reduce((a, l) => a + l.stats().writes, 0)).toBe(store.writes);
    // Each limit costs one write per chunk of requests; the agent bucket's chunk of 1 (exact per-agent limits across
    // 3 instances) makes that about one write per request by itself.
    const expected = 1 / c.global + 1 / c.agent + 1 / c.tenantRequests + 1 / c.clusterRequests;
    expect(perRequest).toBeLessThanOrEqual(expected * 1.05);
    expect(perRequest).toBeGreaterThanOrEqual(1 / c.agent);
  });
});

describe('createSharedEdgeLimiter: tenant budget', () => {
  it('answers 403 with the period end once the quota is spent, and 429 when only the rate is exhausted', async () => {
    const clock = fakeClock(T0 + 10);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), {
      clock, cluster: false, tenantBudget: { requestRate: perSecond(5, 5), requestQuota: { limit: 8, periodMs: HOUR } },
    });
    const first = await admitMany(limiter, 7, 'tenant');
    expect(first.allowed).toBe(5);
    expect(first.answers.find((a) => a.outcome !== 'allowed')).toMatchObject({ outcome: 'rate-limited', scope: 'tenant' });
    clock.advance(1000);
    const second = await admitMany(limiter, 7, 'tenant');
    expect(second.allowed).toBe(3);
    expect(second.answers.find((a) => a.outcome !== 'allowed')).toEqual({ outcome: 'quota-spent', scope: 'requests', resetsAtMs: T0 + HOUR });
    clock.advance(HOUR);
    expect((await limiter.admit('tenant', 'a')).outcome).toBe('allowed');
  });

  it('refuses a tenant whose model-token quota is spent even for requests reserving no tokens', async () => {
    const clock = fakeClock(T0);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), {
      clock, cluster: false, tenantBudget: { requestRate: WIDE, modelTokenQuota: { limit: 1000, periodMs: HOUR } },
    });
    // More than the quota can ever hold: no reset time would help.
    expect(await limiter.admit('t', 'a', 1001)).toEqual({ outcome: 'quota-spent', scope: 'tokens' });
    expect(await limiter.admit('t', 'a', 600)).toEqual({ outcome: 'allowed' });
    expect(await limiter.admit('t', 'a', 600)).toMatchObject({ outcome: 'quota-spent', scope: 'tokens' });
    expect(await limiter.admit('t', 'a', 400)).toEqual({ outcome: 'allowed' });
    expect(await limiter.admit('t', 'a', 0)).toMatchObject({ outcome: 'quota-spent', scope: 'tokens', resetsAtMs: T0 + HOUR });
    expect(await limiter.admit('other-tenant', 'a', 0)).toEqual({ outcome: 'allowed' });
  });

  it('gives quota units that a lease held unused back at its next write, so other instances can use them', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const options: SharedEdgeLimiterOptions = {
      clock, cluster: false, leaseTtlMs: 100, chunks: { tenantRequests: 5 },
      tenantBudget: { requestRate: WIDE, requestQuota: { limit: 10, periodMs: HOUR } },
    };
    const a = createSharedEdgeLimiter(store, options);
    const b = createSharedEdgeLimiter(store, options);
    expect(await a.admit('t', 'x')).toEqual({ outcome: 'allowed' }); // a leases 5, uses 1
    clock.advance(150); // a's lease expires with 4 unused
    expect(await a.admit('t', 'x')).toEqual({ outcome: 'allowed' }); // a returns 4, leases 5 again, uses 1
    const fromB = await admitMany(b, 10, 't');
    // 10 - a's 2 admitted - a's 4 still leased = 4 for b; without the return b would get none.
    expect(fromB.allowed).toBe(4);
    expect(fromB.answers.find((x) => x.outcome !== 'allowed')).toMatchObject({ outcome: 'quota-spent', scope: 'requests' });
  });
});

describe('createSharedEdgeLimiter: cluster budget (RR3)', () => {
  it('caps a tenant at its share (403) and the cluster at its total (429 until the period ends)', async () => {
    const clock = fakeClock(T0 + 10);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), {
      clock, tenantBudget: { requestRate: WIDE },
      cluster: { modelTokenQuota: { limit: 10_000, periodMs: HOUR }, maxTenantShare: 0.5 },
    });
    expect(await limiter.admit('noisy', 'a', 5000)).toEqual({ outcome: 'allowed' });
    expect(await limiter.admit('noisy', 'a', 1)).toEqual({ outcome: 'quota-spent', scope: 'tokens', resetsAtMs: T0 + HOUR });
    expect(await limiter.admit('second', 'b', 4000)).toEqual({ outcome: 'allowed' });
    expect(await limiter.admit('third', 'c', 1000)).toEqual({ outcome: 'allowed' });
    const full = await limiter.admit('fourth', 'd', 1);
    expect(full).toMatchObject({ outcome: 'rate-limited', scope: 'global' });
    expect(full.outcome === 'rate-limited' && full.retryAfterMs).toBe(HOUR - 10);
  });

  it('is on by default', async () => {
    const clock = fakeClock(T0);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), { clock, tenantBudget: { requestRate: WIDE } });
    const share = Math.floor(DEFAULT_CLUSTER_BUDGET.modelTokenQuota!.limit * DEFAULT_CLUSTER_BUDGET.maxTenantShare);
    expect(await limiter.admit('t', 'a', share)).toEqual({ outcome: 'allowed' });
    expect(await limiter.admit('t', 'a', 1)).toMatchObject({ outcome: 'quota-spent', scope: 'tokens' });
  });
});

describe('createSharedEdgeLimiter: store failures (fail closed)', () => {
  function recordingLogger(): Logger & { lines: Array<{ event: string; fields?: LogFields }> } {
    const lines: Array<{ event: string; fields?: LogFields }> = [];
    const push = (event: string, fields?: LogFields) => { lines.push({ event, fields }); };
    return { lines, info: push, warn: push, error: push };
  }

  it('refuses with 429 and Retry-After while the store is unavailable, then recovers', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const logger = recordingLogger();
    const limiter = createSharedEdgeLimiter(store, { clock, logger });
    store.mode = 'unavailable';
    expect(await limiter.admit('t', 'a')).toEqual({ outcome: 'rate-limited', scope: 'global', retryAfterMs: 1000 });
    const calls = store.calls.read;
    expect((await admitMany(limiter, 50)).allowed).toBe(0);
    expect(store.calls.read).toBe(calls); // remembered: no store call per refused request
    expect(limiter.stats().storeFailures).toBe(1);
    expect(logger.lines).toEqual([{ event: 'edge-limiter.fail-closed', fields: { code: 'STORE_UNAVAILABLE', reason: 'store' } }]);
    store.mode = 'ok';
    clock.advance(1000);
    expect(await limiter.admit('t', 'a')).toEqual({ outcome: 'allowed' });
  });

  it('refuses when a store call hangs, after its deadline', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const limiter = createSharedEdgeLimiter(store, { clock, storeTimeoutMs: 50 });
    store.mode = 'hang';
    const started = Date.now();
    expect(await limiter.admit('t', 'a')).toMatchObject({ outcome: 'rate-limited', scope: 'global' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('retries a lost compare-and-swap, and refuses rather than admits when every attempt loses', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const limiter = createSharedEdgeLimiter(store, { ...GLOBAL_ONLY, clock, maxCasAttempts: 3 });
    expect(await limiter.admit('t', 'a')).toEqual({ outcome: 'allowed' }); // creates the documents
    clock.advance(5000); // every lease expired
    store.interleavedWrites = 2;
    expect(await limiter.admit('t', 'a')).toEqual({ outcome: 'allowed' });
    expect(limiter.stats().conflicts).toBe(2);
    clock.advance(5000);
    store.interleavedWrites = 3;
    expect(await limiter.admit('t', 'a')).toMatchObject({ outcome: 'rate-limited' });
    expect(limiter.stats()).toMatchObject({ conflicts: 5, contended: 1 });
  });

  it('fails closed on a corrupt limit document', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const key = limitDocumentKey('limit', 'global');
    await store.inner.create(key.partitionKey, { id: key.id, kind: 'kars-limit-bucket', state: { level: 'lots', atMs: 0 } });
    const limiter = createSharedEdgeLimiter(store, { ...GLOBAL_ONLY, clock });
    expect(await limiter.admit('t', 'a')).toMatchObject({ outcome: 'rate-limited', scope: 'global' });
    expect(limiter.stats().storeFailures).toBe(1);
  });

  it('answers an aborted request without waiting for the refill', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const limiter = createSharedEdgeLimiter(store, { clock, storeTimeoutMs: 5000 });
    store.mode = 'hang';
    const controller = new AbortController();
    const pending = limiter.admit('t', 'a', 0, { abortSignal: controller.signal });
    controller.abort();
    expect(await pending).toEqual({ outcome: 'rate-limited', scope: 'global', retryAfterMs: 1000 });
    expect(limiter.stats().storeFailures).toBe(0);
  });
});

describe('createSharedEdgeLimiter: documents and inputs', () => {
  it('keeps one small expiring document per limit, keyed by a hash of the id', async () => {
    const clock = fakeClock(T0);
    const store = new TestStore(clock);
    const limiter = createSharedEdgeLimiter(store, { clock });
    await limiter.admit('tenant/with?odd#chars', 'agent\\x');
    const agentKey = limitDocumentKey('limit', 'agent', 'agent\\x');
    const doc = await store.inner.read(agentKey.partitionKey, agentKey.id);
    expect(doc?.doc).toMatchObject({ kind: 'kars-limit-bucket', state: { atMs: T0 } });
    // Expires once the bucket would read as full anyway (plus a margin): an absent document is a full bucket.
    expect(doc!.doc.expiresAtMs).toBeGreaterThanOrEqual(T0 + 1000 / DEFAULT_AGENT_LIMIT.refillTokens);
    expect(agentKey.partitionKey).toMatch(/^limit:agent:[0-9a-f]{40}$/);
    for (const kind of ['tenant', 'global', 'cluster'] as const) {
      const k = limitDocumentKey('limit', kind, 'tenant/with?odd#chars');
      expect(await store.inner.read(k.partitionKey, k.id), kind).toBeDefined();
    }
  });

  it('rejects bad ids, token counts and configurations', async () => {
    const clock = fakeClock(T0);
    const limiter = createSharedEdgeLimiter(new TestStore(clock), { clock });
    for (const [t, a, n] of [['', 'a', 0], ['t', '', 0], ['t', 'a', -1], ['t', 'a', 1.5]] as const) {
      const e = await limiter.admit(t, a, n).catch((x: unknown) => x);
      expect(isKarsError(e) && e.code, `${t}/${a}/${n}`).toBe('INPUT_INVALID');
    }
    const store = new TestStore(clock);
    expect(() => createSharedEdgeLimiter(store, { instances: 0 })).toThrow(RangeError);
    expect(() => createSharedEdgeLimiter(store, { global: { capacity: 0, refillTokens: 1, refillPeriodMs: 1000 } })).toThrow(RangeError);
    expect(() => createSharedEdgeLimiter(store, { cluster: { maxTenantShare: 2 } })).toThrow(RangeError);
    expect(() => createSharedEdgeLimiter(store, { chunks: { global: 0 } })).toThrow(RangeError);
  });
});
