// T1-D "Channel flood" — mitigation: per-tenant budget + global limiter (500 rps, burst 1000) + per-agent limiter
// Defends: limits, agent-limit, tenant-budget, hook-negative-cache
// (50 rps, burst 100). This file covers the edge's side: admission outcomes mapped to 429 + Retry-After (rate) and 403
// (quota spent), every refusal receipted, and cheap refusal of floods of made-up hook ids. The cross-process limiter
// (3 processes sharing the stores, ±10 % per 1 s window) is tested with its own adapter (adapters/edge-limiter).
// With the limits switched off (`_disable: ['limits']`) the whole flood reaches the sandbox queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import { meterDocumentStore } from '../../adapters/memory/memory-edge-store-meter';
import { perSecond } from '../../core/limits/token-bucket';
import { redact } from '../../core/secrets/redacted';
import { standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, settableClock, signStandard, type EdgeFixture } from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';

const body = JSON.stringify(standardFixture);

async function flood(f: EdgeFixture, hookId: string, n: number, prefix: string) {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const headers = signStandard(SECRETS.standard, `${prefix}_${i}`, nowSec(f.clock), body);
    statuses.push((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId, body, headers }))).status);
  }
  return statuses;
}

describe('T1-D flood of one agent (in-process limiter, seed defaults)', () => {
  it('ON: the agent burst of 100 passes, the rest get 429 with Retry-After, every request is receipted', async () => {
    const f = createEdgeFixture({ limiterOptions: { tenantBudget: { requestRate: perSecond(1000, 1000) } } });
    const hook = await registerHook(f, 'standard');
    const statuses = await flood(f, hook.hookId, 130, 'on');
    expect(statuses.filter((s) => s === 202)).toHaveLength(100);
    expect(statuses.slice(100).every((s) => s === 429)).toBe(true);
    expect(f.queue.deliveries).toHaveLength(100);
    expect(f.receipts.receipts).toHaveLength(130);
    expect(f.receipts.receipts.filter((r) => r.code === 'LIMIT_RATE_EXCEEDED')).toHaveLength(30);
    // After a second at 50 rps, 50 more.
    f.clock.advance(1000);
    expect((await flood(f, hook.hookId, 60, 'later')).filter((s) => s === 202)).toHaveLength(50);
  });

  it('OFF (limits): all 130 are accepted and queued for the sandbox', async () => {
    const f = createEdgeFixture({ _disable: ['limits'] });
    const hook = await registerHook(f, 'standard');
    expect((await flood(f, hook.hookId, 130, 'off')).every((s) => s === 202)).toBe(true);
    expect(f.queue.deliveries).toHaveLength(130);
  });

  it('a spent tenant quota is 403 (not retryable), while another tenant is unaffected', async () => {
    const f = createEdgeFixture({
      limiterOptions: { tenantBudget: (t) => ({ requestRate: perSecond(100, 100), requestQuota: { limit: t === 'tenant-small' ? 5 : 1_000_000, periodMs: 86_400_000 } }) },
    });
    const small = await registerHook(f, 'standard', { tenantId: 'tenant-small', sandboxId: 'sb-small' });
    const big = await registerHook(f, 'standard', { tenantId: 'tenant-big', sandboxId: 'sb-big' });
    const statuses = await flood(f, small.hookId, 8, 'small');
    expect(statuses).toEqual([202, 202, 202, 202, 202, 403, 403, 403]);
    expect(f.receipts.receipts.filter((r) => r.code === 'LIMIT_QUOTA_EXCEEDED')).toHaveLength(3);
    expect(await flood(f, big.hookId, 3, 'big')).toEqual([202, 202, 202]);
  });

  it('a flood of made-up hook ids is answered from the negative cache: one store read per id per 2 s', async () => {
    const clock = settableClock();
    const store = meterDocumentStore(new MemoryDocumentStore({ clock }));
    const f = createEdgeFixture({ clock, store });
    // The fixture's registry reads hooks from the metered store.
    store.reset();
    for (let i = 0; i < 200; i += 1) {
      const out = await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: 'hk-made-up-id', body, headers: signStandard(SECRETS.standard, `m${i}`, nowSec(clock), body) }));
      expect(out.status).toBe(401);
    }
    expect(store.counts.reads).toBe(1);
    expect(store.counts.writes).toBe(0);
  });
});

describe('T1-D over HTTP (real host, Cosmos, Service Bus, chained receipts)', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  beforeAll(async () => {
    const tight = { agent: perSecond(1, 3), tenantBudget: { requestRate: perSecond(100, 100) } };
    [on, off] = await Promise.all([startEdgeStack({ limiterOptions: tight }), startEdgeStack({ limiterOptions: tight, pipelineOptions: { _disable: ['limits'] } })]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function burst(stack: EdgeStack, sandboxId: string) {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const answers: Array<{ status: number; retryAfter: string | null }> = [];
    for (let i = 0; i < 6; i += 1) {
      const r = await postHook(stack, 'standard', hook.hookId, body, signStandard(SECRETS.standard, `msg_${sandboxId}_${i}`, Math.floor(Date.now() / 1000), body));
      answers.push({ status: r.status, retryAfter: r.headers.get('retry-after') });
      await r.arrayBuffer();
    }
    return { answers, delivered: await stack.drain(sandboxId) };
  }

  it('ON: burst of 3 accepted, then 429 with a Retry-After header; refusals are in the audit chain', async () => {
    const { answers, delivered } = await burst(on, 'sandbox-d-on');
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([202, 202, 202]);
    const limited = answers.slice(3);
    expect(limited.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(2);
    for (const a of limited.filter((x) => x.status === 429)) expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(delivered.length).toBe(answers.filter((a) => a.status === 202).length);
    const receipts = await on.readReceipts();
    expect(receipts).toHaveLength(6);
    expect(receipts.filter((r) => r.code === 'LIMIT_RATE_EXCEEDED').length).toBe(limited.filter((a) => a.status === 429).length);
  });

  it('OFF: all six are accepted and delivered', async () => {
    const { answers, delivered } = await burst(off, 'sandbox-d-off');
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(delivered).toHaveLength(6);
  });
});
