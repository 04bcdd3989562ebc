import { describe, expect, it } from 'vitest';
import {
  createPreAuthGuard, DEFAULT_PREAUTH_GLOBAL, DEFAULT_PREAUTH_PER_HOOK, DEFAULT_PREAUTH_WINDOW_MS, instanceShare, NO_HOOK_KEY, OTHER_HOOKS_KEY,
  resolvePreAuthOptions,
} from '../../../core/edge/preauth-guard';
import { buildRefusalSummaryReceipt, refusalSummaryHash, REFUSAL_SUMMARY_KIND, type RefusalSummarySubject } from '../../../core/edge/record-refusal-summary';
import { publicResponse } from '../../../core/edge/public-response';
import { perSecond } from '../../../core/limits/token-bucket';

const T0 = 1_760_000_000_000;

describe('resolvePreAuthOptions', () => {
  it('has the documented defaults', () => {
    expect(resolvePreAuthOptions()).toEqual({
      perHook: DEFAULT_PREAUTH_PER_HOOK, global: DEFAULT_PREAUTH_GLOBAL, instances: 1, windowMs: DEFAULT_PREAUTH_WINDOW_MS, maxSummaryKeys: 16,
      maxTrackedHooks: 10_000,
    });
    expect(DEFAULT_PREAUTH_PER_HOOK).toEqual({ capacity: 200, refillTokens: 10, refillPeriodMs: 1000 });
    expect(DEFAULT_PREAUTH_GLOBAL).toEqual({ capacity: 1000, refillTokens: 100, refillPeriodMs: 1000 });
  });

  it.each([
    [{ windowMs: 999 }], [{ windowMs: 3_600_001 }], [{ maxSummaryKeys: 0 }], [{ maxTrackedHooks: 1.5 }],
    [{ perHook: { capacity: 0, refillTokens: 1, refillPeriodMs: 1000 } }], [{ global: { capacity: 1, refillTokens: -1, refillPeriodMs: 1000 } }],
    [{ instances: 0 }], [{ instances: 1001 }], [{ instances: 2.5 }],
  ])('refuses %j at start-up', (options) => {
    expect(() => resolvePreAuthOptions(options)).toThrow(/expected/);
  });
});

describe('instanceShare: one instance\'s part of a deployment-wide budget', () => {
  it('divides the burst (rounded down, at least 1) and the refill exactly', () => {
    expect(instanceShare(perSecond(10, 200), 1)).toEqual(perSecond(10, 200));
    expect(instanceShare(perSecond(100, 1000), 4)).toEqual({ capacity: 250, refillTokens: 25, refillPeriodMs: 1000 });
    expect(instanceShare(perSecond(10, 200), 3)).toEqual({ capacity: 66, refillTokens: 10, refillPeriodMs: 3000 });
    expect(instanceShare(perSecond(10, 200), 4)).toEqual({ capacity: 50, refillTokens: 5, refillPeriodMs: 2000 });
    expect(instanceShare(perSecond(1, 2), 100)).toEqual({ capacity: 1, refillTokens: 1, refillPeriodMs: 100_000 });
  });

  it('N shares refill exactly the configured rate together, and their bursts never exceed max(burst, N)', () => {
    for (const [rate, burst] of [[10, 200], [7, 13], [100, 1000], [1, 1]] as const) {
      for (const n of [1, 2, 3, 7, 40, 100, 1000]) {
        const share = instanceShare(perSecond(rate, burst), n);
        // tokens per second, summed over the instances, as an exact fraction: n × refillTokens / (refillPeriodMs / 1000)
        expect(n * share.refillTokens * 1000, `${rate}/${burst}×${n}`).toBe(rate * share.refillPeriodMs);
        expect(n * share.capacity).toBeLessThanOrEqual(Math.max(burst, n));
        expect(share.capacity).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('resolvePreAuthOptions gives the guard the instance share', () => {
    const r = resolvePreAuthOptions({ perHook: perSecond(10, 200), global: perSecond(100, 1000), instances: 3 });
    expect(r.instances).toBe(3);
    expect(r.perHook).toEqual(instanceShare(perSecond(10, 200), 3));
    expect(r.global).toEqual(instanceShare(perSecond(100, 1000), 3));
    const guard = createPreAuthGuard(r);
    let granted = 0;
    while (guard.admit('hk-one', T0).receipt) granted += 1;
    expect(granted).toBe(66);
  });
});

describe('pre-auth guard buckets', () => {
  it('grants the per-hook burst, then refuses with a Retry-After until the bucket refills', () => {
    const guard = createPreAuthGuard(resolvePreAuthOptions({ perHook: perSecond(2, 3) }));
    expect([1, 2, 3, 4].map(() => guard.admit('hk-a', T0).receipt)).toEqual([true, true, true, false]);
    expect(guard.admit('hk-a', T0)).toEqual({ receipt: false, retryAfterMs: 500 });
    expect(guard.admit('hk-a', T0 + 500).receipt).toBe(true);
    expect(guard.admit('hk-a', T0 + 500).receipt).toBe(false);
  });

  it('takes from the hook and the global bucket together or not at all', () => {
    const guard = createPreAuthGuard(resolvePreAuthOptions({ perHook: perSecond(1, 2), global: perSecond(1, 3) }));
    expect(guard.admit('hk-a', T0).receipt).toBe(true);
    expect(guard.admit('hk-a', T0).receipt).toBe(true);
    // hk-a is out; its refusal must not spend the global token that hk-b still gets.
    expect(guard.admit('hk-a', T0).receipt).toBe(false);
    expect(guard.admit('hk-b', T0).receipt).toBe(true);
    // Global is out now: hk-c has a full bucket of its own but gets nothing.
    expect(guard.admit('hk-c', T0)).toEqual({ receipt: false, retryAfterMs: 1000 });
  });

  it('keeps at most maxTrackedHooks buckets; a forgotten one restarts full (the global bucket still bounds)', () => {
    const guard = createPreAuthGuard(resolvePreAuthOptions({ perHook: perSecond(1, 1), maxTrackedHooks: 2 }));
    expect(guard.admit('hk-a', T0).receipt).toBe(true);
    expect(guard.admit('hk-a', T0).receipt).toBe(false);
    guard.admit('hk-b', T0);
    guard.admit('hk-c', T0);
    expect(guard.admit('hk-a', T0).receipt).toBe(true);
  });
});

describe('pre-auth guard summaries', () => {
  it('counts per window and hook key, by code; hands out only ended windows unless asked for all', () => {
    const guard = createPreAuthGuard(resolvePreAuthOptions({ windowMs: 10_000 }));
    const w0 = Math.floor(T0 / 10_000) * 10_000;
    expect(guard.nextWindowEndMs()).toBeUndefined();
    expect(guard.hasClosedWindow(T0)).toBe(false);
    guard.count('hk-a', 'tenant-a', 'WEBHOOK_SIGNATURE_MISMATCH', w0 + 1);
    guard.count('hk-a', undefined, 'HTTP_CONTENT_TYPE_UNSUPPORTED', w0 + 2);
    guard.count('hk-a', 'tenant-a', 'WEBHOOK_SIGNATURE_MISMATCH', w0 + 3);
    guard.count(NO_HOOK_KEY, undefined, 'WEBHOOK_HOOK_UNKNOWN', w0 + 4);
    guard.count('hk-a', 'tenant-a', 'WEBHOOK_SIGNATURE_MISMATCH', w0 + 10_000);
    expect(guard.nextWindowEndMs()).toBe(w0 + 10_000);
    expect(guard.hasClosedWindow(w0 + 9_999)).toBe(false);
    expect(guard.takeSummaries(w0 + 9_999)).toEqual([]);
    expect(guard.hasClosedWindow(w0 + 10_000)).toBe(true);
    const first = guard.takeSummaries(w0 + 10_000);
    expect(first).toEqual([
      { windowStartMs: w0, windowEndMs: w0 + 10_000, hookKey: 'hk-a', tenantId: 'tenant-a', count: 3,
        codes: new Map([['WEBHOOK_SIGNATURE_MISMATCH', 2], ['HTTP_CONTENT_TYPE_UNSUPPORTED', 1]]) },
      { windowStartMs: w0, windowEndMs: w0 + 10_000, hookKey: NO_HOOK_KEY, tenantId: undefined, count: 1, codes: new Map([['WEBHOOK_HOOK_UNKNOWN', 1]]) },
    ]);
    expect(guard.takeSummaries(w0 + 10_000)).toEqual([]);
    expect(guard.nextWindowEndMs()).toBe(w0 + 20_000);
    expect(guard.takeSummaries(w0 + 10_001, true).map((s) => [s.windowStartMs, s.count])).toEqual([[w0 + 10_000, 1]]);
    expect(guard.nextWindowEndMs()).toBeUndefined();
  });

  it('gives at most maxSummaryKeys hook ids their own summary per window; the rest share "(other)"', () => {
    const guard = createPreAuthGuard(resolvePreAuthOptions({ maxSummaryKeys: 2 }));
    for (const id of ['hk-a', 'hk-b', 'hk-c', 'hk-d', 'hk-a']) guard.count(id, `tenant-of-${id}`, 'WEBHOOK_HOOK_UNKNOWN', T0);
    const summaries = guard.takeSummaries(T0, true);
    expect(summaries.map((s) => [s.hookKey, s.count, s.tenantId])).toEqual([['hk-a', 2, 'tenant-of-hk-a'], ['hk-b', 1, 'tenant-of-hk-b'], [OTHER_HOOKS_KEY, 2, undefined]]);
  });

  it('builds one receipt per summary: counts by code, a hash over the subject, partition by tenant when known', () => {
    const receipt = buildRefusalSummaryReceipt({
      windowStartMs: 1000, windowEndMs: 11_000, hookKey: 'hk-a', tenantId: 'tenant-a', count: 7,
      codes: new Map([['WEBHOOK_SIGNATURE_MISMATCH', 5], ['HTTP_CONTENT_TYPE_UNSUPPORTED', 2]]),
    });
    expect(receipt).toEqual({
      kind: REFUSAL_SUMMARY_KIND, partition: 'tenant-a', atMs: 11_000, outcome: 'rejected', status: 429, code: 'LIMIT_PREAUTH_EXCEEDED',
      requestHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      subject: { hookId: 'hk-a', tenantId: 'tenant-a', windowStartMs: '1000', windowEndMs: '11000', count: '7', codes: 'HTTP_CONTENT_TYPE_UNSUPPORTED:2,WEBHOOK_SIGNATURE_MISMATCH:5' },
    });
    expect(receipt.requestHash).toBe(refusalSummaryHash(receipt.subject as unknown as RefusalSummarySubject));
    expect(refusalSummaryHash({ ...(receipt.subject as unknown as RefusalSummarySubject), count: '8' })).not.toBe(receipt.requestHash);
    const anonymous = buildRefusalSummaryReceipt({ windowStartMs: 0, windowEndMs: 10_000, hookKey: NO_HOOK_KEY, tenantId: undefined, count: 1, codes: new Map([['NOT_FOUND', 1]]) });
    expect(anonymous).toMatchObject({ partition: 'edge', subject: { hookId: null, tenantId: null } });
  });

  it('answers a throttled refusal 429 with Retry-After and a public body without the precise reason; 413s still close', () => {
    const out = publicResponse({ kind: 'rejected', status: 429, code: 'LIMIT_PREAUTH_EXCEEDED', message: 'too many refused requests, retry later', retryAfterMs: 100, reason: 'WEBHOOK_SIGNATURE_MISMATCH' });
    expect(out).toEqual({
      status: 429, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '1' },
      body: JSON.stringify({ code: 'LIMIT_PREAUTH_EXCEEDED', message: 'too many refused requests, retry later' }),
    });
    const closed = publicResponse({ kind: 'rejected', status: 429, code: 'LIMIT_PREAUTH_EXCEEDED', message: 'm', retryAfterMs: 2500, reason: 'HTTP_BODY_TOO_LARGE', closeConnection: true });
    expect(closed.headers).toMatchObject({ 'retry-after': '3', connection: 'close' });
  });
});
