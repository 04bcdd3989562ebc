// T1-D "Channel flood" before authentication, across Function instances — mitigation: the pre-auth budgets
// Defends: preauth-guard, preauth-instance-share
// (KARS_EDGE_PREAUTH_*) are for the whole deployment, and each instance takes 1/KARS_LIMIT_MAX_INSTANCES of them
// (core/edge/preauth-guard.ts instanceShare, wired by functions/hooks/build-hook-route-deps.ts). Three in-process
// Function instances built the way the app builds them (settings → buildHookRouteDeps → route table pipeline), sharing
// one store, together write no more per-request refusal receipts than the deployment budget allows for the flood's
// duration. With each instance holding the whole budget (maxInstances unset, what the edge did before), the same flood
// writes three times as many.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../adapters/memory/memory-bus';
import { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import { createMemoryReceiptSink, type MemoryReceiptSink } from '../../adapters/memory/memory-edge-receipts';
import { createMemorySecretSource } from '../../adapters/memory/memory-secrets';
import { createLocalEdgeLimiter } from '../../adapters/edge/local-edge-limiter';
import { REFUSAL_SUMMARY_KIND } from '../../core/edge/record-refusal-summary';
import type { EdgePipeline } from '../../core/edge/run-edge-pipeline';
import { perSecond } from '../../core/limits/token-bucket';
import type { Logger } from '../../core/ports/logger.port';
import { buildHookRouteDeps } from '../../functions/hooks/build-hook-route-deps';
import { loadEdgeSettings } from '../../functions/hooks/edge-settings';
import { createHookRoutes } from '../../functions/hooks/hook-routes';
import { edgeRequest, registerHook, SECRETS, settableClock, signStandard, type SettableClock } from '../core/edge/edge-fixture';

const INSTANCES = 3;
const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const body = JSON.stringify({ type: 'contact.created', timestamp: '2026-01-01T00:00:00Z', data: { id: 1 } });
const FORGED_SECRET = `whsec_${Buffer.from('attacker guesses a 32-byte secret').toString('base64')}`;
// The deployment-wide budgets (seed-like defaults, set explicitly so the bound below reads from one place).
const HOOK = { rps: 10, burst: 200 };
const ALL = { rps: 100, burst: 1000 };
const env = {
  KARS_EDGE_PREAUTH_HOOK_RPS: String(HOOK.rps), KARS_EDGE_PREAUTH_HOOK_BURST: String(HOOK.burst),
  KARS_EDGE_PREAUTH_GLOBAL_RPS: String(ALL.rps), KARS_EDGE_PREAUTH_GLOBAL_BURST: String(ALL.burst),
};

interface Deployment {
  instances: EdgePipeline[];
  receipts: MemoryReceiptSink;
  clock: SettableClock;
  hookId: string;
}

/** Three Function instances over one store, receipt sink and clock, each built like functions/routes.ts builds one. */
async function deployment(maxInstances: number | undefined): Promise<Deployment> {
  const clock = settableClock();
  const store = new MemoryDocumentStore({ clock });
  const secrets = createMemorySecretSource();
  const receipts = createMemoryReceiptSink();
  const settings = loadEdgeSettings(env, 'azure');
  const instances: EdgePipeline[] = [];
  let hookId = '';
  for (let i = 0; i < INSTANCES; i += 1) {
    const deps = await buildHookRouteDeps({
      documents: async () => store, secrets, bus: createMemoryBus(), receipts, clock, logger: silent,
      // Far above the few signed deliveries: this file is about the refusals.
      limiter: createLocalEdgeLimiter({ clock, agent: perSecond(1000, 1000), tenantBudget: { requestRate: perSecond(1000, 1000) } }),
      ...(maxInstances !== undefined ? { maxInstances } : {}),
    }, settings);
    if (i === 0) hookId = (await registerHook(deps, 'standard')).hookId;
    instances.push(createHookRoutes(deps).pipeline);
  }
  return { instances, receipts, clock, hookId };
}

interface FloodResult {
  /** Per-request refusal receipts written (the store writes the guard bounds). */
  ownReceipts: number;
  /** Refusals only counted, summed over the summary receipts. */
  summarised: number;
  elapsedMs: number;
  legitimate: number[];
}

/**
 * `n` forged requests spread round-robin over the instances, `stepMs` apart, against `hookIdOf(i)`; a correctly signed
 * delivery to the real hook after every 500.
 */
async function flood(d: Deployment, n: number, stepMs: number, hookIdOf: (i: number) => string): Promise<FloodResult> {
  const startMs = d.clock.nowMs();
  const legitimate: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const pipeline = d.instances[i % d.instances.length]!;
    const sec = Math.floor(d.clock.nowMs() / 1000);
    await pipeline.handle(edgeRequest({ channel: 'standard', hookId: hookIdOf(i), body, headers: signStandard(FORGED_SECRET, `msg_f_${i}`, sec, body) }));
    if ((i + 1) % 500 === 0) {
      const signed = signStandard(SECRETS.standard, `msg_ok_${i}`, sec, body);
      legitimate.push((await pipeline.handle(edgeRequest({ channel: 'standard', hookId: d.hookId, body, headers: signed }))).status);
    }
    d.clock.advance(stepMs);
  }
  const elapsedMs = d.clock.nowMs() - startMs;
  for (const p of d.instances) await p.flushRefusalSummaries();
  const own = d.receipts.receipts.filter((r) => r.kind === 'edge.webhook' && r.outcome === 'rejected').length;
  const summarised = d.receipts.receipts.filter((r) => r.kind === REFUSAL_SUMMARY_KIND).reduce((sum, r) => sum + Number(r.subject['count']), 0);
  return { ownReceipts: own, summarised, elapsedMs, legitimate };
}

/** What a token bucket of the deployment-wide size admits over `elapsedMs`: the burst plus the refill. */
const bound = (b: { rps: number; burst: number }, elapsedMs: number) => b.burst + Math.floor((b.rps * elapsedMs) / 1000);

describe('T1-D pre-auth budget for the whole deployment (3 instances)', () => {
  // 3000 forged requests, 4 ms apart: 12 s of flood against one real hook id.
  const N = 3000;
  const STEP_MS = 4;

  it('ON: three instances together stay within the deployment\'s per-hook budget; every refusal is still traced', async () => {
    const d = await deployment(INSTANCES);
    const r = await flood(d, N, STEP_MS, () => d.hookId);
    expect(r.ownReceipts).toBeLessThanOrEqual(bound(HOOK, r.elapsedMs));
    // Not stricter than it needs to be: each instance's rounded-down burst costs at most one token per instance.
    expect(r.ownReceipts).toBeGreaterThanOrEqual(bound(HOOK, r.elapsedMs) - 2 * INSTANCES);
    expect(r.ownReceipts + r.summarised).toBe(N);
    expect(r.legitimate).toEqual(Array.from({ length: N / 500 }, () => 202));
  });

  it('ON: made-up hook ids spread over the instances stay within the deployment\'s all-hooks budget', async () => {
    const d = await deployment(INSTANCES);
    const r = await flood(d, N, STEP_MS, (i) => `hk-made-up-${i}`);
    expect(r.ownReceipts).toBeLessThanOrEqual(bound(ALL, r.elapsedMs));
    expect(r.ownReceipts + r.summarised).toBe(N);
  });

  it('OFF (each instance holds the whole budget): the same flood writes about three times the deployment budget', async () => {
    const d = await deployment(undefined);
    const r = await flood(d, N, STEP_MS, () => d.hookId);
    expect(r.ownReceipts).toBeGreaterThan(bound(HOOK, r.elapsedMs));
    expect(r.ownReceipts).toBeGreaterThanOrEqual(INSTANCES * bound(HOOK, r.elapsedMs) - 2 * INSTANCES * HOOK.rps);
  });
});
