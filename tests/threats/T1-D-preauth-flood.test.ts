// T1-D "Channel flood", before authentication — mitigation: the pre-auth guard (core/edge/preauth-guard.ts). Rate limits
// Defends: preauth-guard
// run after the signature check, so without the guard every forged or garbage request costs one receipt append: the
// store write rate follows the attacker's request rate. With the guard, refusals of unauthenticated requests get their
// own receipt only within a token-bucket budget (per hook id and per process); past it they are answered 429 with
// Retry-After and counted into one summary receipt per window and hook id. Every request still leaves a trace (its own
// receipt or its count in a summary), the legitimate sender's signed deliveries are still accepted, and with the guard
// switched off (`_disable: ['preauth-guard']`) the receipt writes grow one for one with the flood.
import { describe, expect, it } from 'vitest';
import { REFUSAL_SUMMARY_KIND } from '../../core/edge/record-refusal-summary';
import { perSecond } from '../../core/limits/token-bucket';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signStandard, type EdgeFixture, type EdgeFixtureOptions } from '../core/edge/edge-fixture';

const body = JSON.stringify({ type: 'contact.created', timestamp: '2026-01-01T00:00:00Z', data: { id: 1 } });
const FORGED_SECRET = `whsec_${Buffer.from('attacker guesses a 32-byte secret').toString('base64')}`;

let seq = 0;
function forged(f: EdgeFixture, hookId: string) {
  seq += 1;
  return edgeRequest({ channel: 'standard', hookId, body, headers: signStandard(FORGED_SECRET, `msg_forged_${seq}`, nowSec(f.clock), body) });
}
function legitimate(f: EdgeFixture, hookId: string) {
  seq += 1;
  return edgeRequest({ channel: 'standard', hookId, body, headers: signStandard(SECRETS.standard, `msg_legit_${seq}`, nowSec(f.clock), body) });
}

interface FloodResult {
  statuses: Map<number, number>;
  legitimate: number[];
  retryAfterMissing: number;
}

/** `n` forged requests at one instant against `hookId`, with a correctly signed one after every `legitEvery`. */
async function flood(f: EdgeFixture, hookId: string, n: number, legitEvery = 100): Promise<FloodResult> {
  const statuses = new Map<number, number>();
  const legit: number[] = [];
  let retryAfterMissing = 0;
  for (let i = 1; i <= n; i += 1) {
    const out = await f.pipeline.handle(forged(f, hookId));
    statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
    if (out.status === 429 && (out.kind !== 'rejected' || out.retryAfterMs === undefined)) retryAfterMissing += 1;
    if (i % legitEvery === 0) legit.push((await f.pipeline.handle(legitimate(f, hookId))).status);
  }
  return { statuses, legitimate: legit, retryAfterMissing };
}

const refusalReceipts = (f: EdgeFixture) => f.receipts.receipts.filter((r) => r.kind === 'edge.webhook' && r.outcome === 'rejected');
const summaries = (f: EdgeFixture) => f.receipts.receipts.filter((r) => r.kind === REFUSAL_SUMMARY_KIND);
const summarised = (f: EdgeFixture) => summaries(f).reduce((n, r) => n + Number(r.subject['count']), 0);

async function floodedFixture(n: number, options: EdgeFixtureOptions = {}) {
  // Agent limits far above the handful of legitimate deliveries: this file is about the refusals.
  const f = createEdgeFixture({ limiterOptions: { agent: perSecond(1000, 1000), tenantBudget: { requestRate: perSecond(1000, 1000) } }, ...options });
  const hook = await registerHook(f, 'standard');
  const result = await flood(f, hook.hookId, n);
  await f.pipeline.flushRefusalSummaries();
  return { f, hook, result };
}

describe('T1-D pre-auth flood: forged signatures against one real hook (seed-like defaults: 200 per hook id, then 10/s)', () => {
  it('ON: receipt writes stay bounded whatever the flood size; the legitimate sender still gets 202', async () => {
    const small = await floodedFixture(600);
    const large = await floodedFixture(1200);
    for (const [{ f, result }, n] of [[small, 600], [large, 1200]] as const) {
      // The hook's burst of refusals is receipted one by one, the rest are answered 429 with Retry-After.
      expect(refusalReceipts(f)).toHaveLength(200);
      expect(refusalReceipts(f).every((r) => r.code === 'WEBHOOK_SIGNATURE_MISMATCH' && r.status === 401)).toBe(true);
      expect(result.statuses.get(401)).toBe(200);
      expect(result.statuses.get(429)).toBe(n - 200);
      expect(result.retryAfterMissing).toBe(0);
      // One summary receipt for the window, counting exactly the requests without a receipt of their own.
      expect(summaries(f)).toHaveLength(1);
      expect(summaries(f)[0]!.subject).toMatchObject({ hookId: expect.stringMatching(/^hk-/), tenantId: 'tenant-a', count: String(n - 200), codes: `WEBHOOK_SIGNATURE_MISMATCH:${n - 200}` });
      expect(refusalReceipts(f).length + summarised(f)).toBe(n);
      // The legitimate deliveries interleaved with the flood were all accepted and delivered.
      expect(result.legitimate).toEqual(Array.from({ length: n / 100 }, () => 202));
      expect(f.queue.deliveries).toHaveLength(n / 100);
    }
    // Doubling the flood adds no receipt write beyond the legitimate deliveries' own.
    const writesOf = ({ f, result }: typeof small) => f.receipts.writes - result.legitimate.length;
    expect(writesOf(small)).toBe(201);
    expect(writesOf(large)).toBe(201);
  });

  it('OFF (_disable preauth-guard): one receipt write per forged request, growing linearly with the flood', async () => {
    const small = await floodedFixture(600, { _disable: ['preauth-guard'] });
    const large = await floodedFixture(1200, { _disable: ['preauth-guard'] });
    expect(refusalReceipts(small.f)).toHaveLength(600);
    expect(refusalReceipts(large.f)).toHaveLength(1200);
    expect(small.f.receipts.writes - small.result.legitimate.length).toBe(600);
    expect(large.f.receipts.writes - large.result.legitimate.length).toBe(1200);
    expect(summaries(large.f)).toHaveLength(0);
    expect(large.result.statuses.get(401)).toBe(1200);
  });
});

describe('T1-D pre-auth flood: made-up hook ids and garbage, small budgets', () => {
  const budget = { preAuthGuard: { perHook: perSecond(1, 5), global: perSecond(5, 20), windowMs: 1000, maxSummaryKeys: 4 } };

  it('a flood spread over many made-up hook ids is bounded by the process budget and the per-window key cap', async () => {
    const f = createEdgeFixture(budget);
    const legit = await registerHook(f, 'standard');
    let refusedWith429 = 0;
    for (let i = 0; i < 500; i += 1) {
      const out = await f.pipeline.handle(forged(f, `hk-made-up-${i}`));
      if (out.status === 429) refusedWith429 += 1;
      else expect(out.status).toBe(401);
    }
    expect(await f.pipeline.handle(legitimate(f, legit.hookId))).toMatchObject({ status: 202 });
    await f.pipeline.flushRefusalSummaries();
    expect(refusalReceipts(f)).toHaveLength(20);
    expect(refusedWith429).toBe(480);
    // At most maxSummaryKeys ids with their own summary, the rest under "(other)".
    expect(summaries(f).length).toBeLessThanOrEqual(5);
    expect(summaries(f).map((r) => r.subject['hookId'])).toContain('(other)');
    expect(summarised(f)).toBe(480);
    expect(summaries(f).every((r) => r.subject['codes']!.startsWith('WEBHOOK_HOOK_UNKNOWN:'))).toBe(true);
  });

  it('windows: each window that saw throttled refusals ends in one summary per hook id, written by the next request', async () => {
    const f = createEdgeFixture(budget);
    const hook = await registerHook(f, 'standard');
    f.clock.set(Math.ceil(f.clock.nowMs() / 1000) * 1000);
    const garbage = () => edgeRequest({ channel: 'standard', hookId: hook.hookId, body: 'x', headers: { 'content-type': 'text/plain' } });
    for (let i = 0; i < 8; i += 1) await f.pipeline.handle(garbage());
    expect(summaries(f)).toHaveLength(0);
    f.clock.advance(1000);
    // The first request of the next window writes the last window's summary (not awaited by that request).
    expect((await f.pipeline.handle(garbage())).status).toBe(415);
    await f.pipeline.flushRefusalSummaries({ includeOpenWindow: false });
    expect(summaries(f).map((r) => r.subject['codes'])).toEqual(['HTTP_CONTENT_TYPE_UNSUPPORTED:3']);
    expect(refusalReceipts(f)).toHaveLength(6);
    const logged = f.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['code'] === 'LIMIT_PREAUTH_EXCEEDED');
    expect(logged).toHaveLength(3);
    expect(logged.every((l) => l['reason'] === 'HTTP_CONTENT_TYPE_UNSUPPORTED' && l['status'] === 429)).toBe(true);
  });

  it('refusals after authentication are never summarised: a replay flood keeps one receipt each', async () => {
    const f = createEdgeFixture(budget);
    const hook = await registerHook(f, 'standard');
    const headers = signStandard(SECRETS.standard, 'msg_replayed', nowSec(f.clock), body);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) statuses.push((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).status);
    await f.pipeline.flushRefusalSummaries();
    expect(statuses).toEqual([202, ...Array.from({ length: 29 }, () => 409)]);
    expect(refusalReceipts(f)).toHaveLength(29);
    expect(summaries(f)).toHaveLength(0);
  });
});
