// T1-D / T1-R: the pre-auth guard's open-window counts survive a graceful shutdown.
// Defends: pre-auth guard summary receipts flushed at shutdown (app terminate hook)
// Past the pre-auth budget, forged requests get no receipt of their own, only a count in their window's summary
// receipt, written when the window ends. An instance that stops before that would lose the counts, so the route table
// registers the pipeline's flush as an app terminate hook (functions/app-hooks.ts), which the Azure host runs through
// `app.hook.appTerminate` and the local host runs in `close()` (SIGTERM). Without the hook the counts of the open
// window are gone at shutdown.
import { app } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs } from '../support/log-sink';
import { REFUSAL_SUMMARY_KIND } from '../../core/edge/record-refusal-summary';
import { perSecond } from '../../core/limits/token-bucket';
import { createAppHooks, registerAzureTerminateHooks, type AppHooks, type AzureHookApi } from '../../functions/app-hooks';
import type { HookRouteDeps } from '../../functions/hooks/hook-routes';
import { buildAppRoutes } from '../../functions/routes';
import { startLocalHost, type LocalHost } from '../../infra/local/host/local-host';
import { createEdgeFixture, nowSec, registerHook, signStandard, type EdgeFixture } from '../core/edge/edge-fixture';

// The real SDK's hook API has the shape functions/index.ts hands to registerAzureTerminateHooks.
const azureHookApi: AzureHookApi = app.hook;
void azureHookApi;

const BURST = 5;
const FLOOD = 12;
const body = JSON.stringify({ type: 'contact.created', timestamp: '2026-01-01T00:00:00Z', data: { id: 1 } });
const FORGED_SECRET = `whsec_${Buffer.from('attacker guesses a 32-byte secret').toString('base64')}`;
const keys = { functionKey: 'fk-shutdown-test', masterKey: 'mk-shutdown-test' };

const hosts: LocalHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
});

interface App {
  f: EdgeFixture;
  hookId: string;
  host: LocalHost;
}

/** The app's route table (buildAppRoutes, as functions/routes.ts builds it) over memory ports, behind the local host. */
async function startApp(hooks: AppHooks, hostHooks: AppHooks | undefined): Promise<App> {
  // The fixture provides the memory ports; the pipeline under test is the one the route table builds from `deps`.
  const f = createEdgeFixture();
  const logger = captureLogs({ component: 'shutdown-test' }).logger;
  const deps: HookRouteDeps = {
    registry: f.registry, replayGuard: f.replayGuard, limiter: f.limiter, queue: f.queue, receipts: f.receipts, clock: f.clock, logger,
    // A window of an hour: nothing but a flush (or a later request) writes the summary during the test.
    pipelineOptions: { preAuthGuard: { perHook: perSecond(1, BURST), global: perSecond(5, 20), windowMs: 3_600_000 } },
  };
  const routes = buildAppRoutes({ health: async () => ({ probes: [], timeoutMs: 1000 }), hookDeps: async () => deps, rolloutClient: () => { throw new Error('not used'); } }, hooks);
  const host = await startLocalHost({ routes, keys, logger, port: 0, ...(hostHooks ? { hooks: hostHooks } : {}) });
  hosts.push(host);
  const hook = await registerHook(f, 'standard');
  return { f, hookId: hook.hookId, host };
}

/** FLOOD forged Standard Webhooks requests over HTTP; returns the statuses. */
async function flood({ f, hookId, host }: App): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < FLOOD; i += 1) {
    const r = await fetch(`${host.url}/api/hooks/standard/${hookId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signStandard(FORGED_SECRET, `msg_forged_${i}`, nowSec(f.clock), body) },
      body,
    });
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  return statuses;
}

const summaries = (f: EdgeFixture) => f.receipts.receipts.filter((r) => r.kind === REFUSAL_SUMMARY_KIND);
const ownReceipts = (f: EdgeFixture) => f.receipts.receipts.filter((r) => r.kind === 'edge.webhook');

function expectFlood(statuses: number[], f: EdgeFixture): void {
  expect(statuses.filter((s) => s === 401)).toHaveLength(BURST);
  expect(statuses.filter((s) => s === 429)).toHaveLength(FLOOD - BURST);
  expect(ownReceipts(f)).toHaveLength(BURST);
  expect(summaries(f)).toHaveLength(0);
}

describe('T1-D pre-auth summaries at shutdown', () => {
  it('ON, local host: close() (what SIGTERM runs) runs the app terminate hooks and the open window\'s summary is written', async () => {
    const hooks = createAppHooks();
    const a = await startApp(hooks, hooks);
    expectFlood(await flood(a), a.f);
    hosts.splice(hosts.indexOf(a.host), 1);
    await a.host.close();
    expect(summaries(a.f)).toHaveLength(1);
    expect(summaries(a.f)[0]).toMatchObject({ status: 429, code: 'LIMIT_PREAUTH_EXCEEDED' });
    expect(summaries(a.f)[0]!.subject).toMatchObject({
      hookId: a.hookId, tenantId: 'tenant-a', count: String(FLOOD - BURST), codes: `WEBHOOK_SIGNATURE_MISMATCH:${FLOOD - BURST}`,
    });
    // Every forged request left a trace: its own receipt or its count in the summary.
    expect(ownReceipts(a.f).length + Number(summaries(a.f)[0]!.subject['count'])).toBe(FLOOD);
  });

  it('ON, Azure: the handler registered with app.hook.appTerminate writes the summary', async () => {
    const hooks = createAppHooks();
    const registered: Array<() => Promise<void> | void> = [];
    registerAzureTerminateHooks({ appTerminate: (handler) => registered.push(handler) }, hooks);
    expect(registered).toHaveLength(1);
    // Served by a host that runs no hooks itself: only the Azure-registered handler can write the summary.
    const a = await startApp(hooks, undefined);
    expectFlood(await flood(a), a.f);
    hosts.splice(hosts.indexOf(a.host), 1);
    await a.host.close();
    expect(summaries(a.f)).toHaveLength(0);
    await registered[0]!();
    expect(summaries(a.f)).toHaveLength(1);
    expect(summaries(a.f)[0]!.subject['count']).toBe(String(FLOOD - BURST));
  });

  it('OFF (a host that ignores the terminate hooks): the counts of the open window are lost at shutdown', async () => {
    const a = await startApp(createAppHooks(), undefined);
    expectFlood(await flood(a), a.f);
    hosts.splice(hosts.indexOf(a.host), 1);
    await a.host.close();
    expect(summaries(a.f)).toHaveLength(0);
    expect(ownReceipts(a.f)).toHaveLength(BURST);
  });

  it('a failing terminate hook is logged by name and does not stop the others; hooks run once', async () => {
    const hooks = createAppHooks();
    const ran: string[] = [];
    const lines: string[] = [];
    hooks.onTerminate('first', () => { ran.push('first'); throw new Error('boom with request data'); });
    hooks.onTerminate('second', async () => { ran.push('second'); });
    const logger = captureLogs({ component: 'shutdown-test', into: lines }).logger;
    await Promise.all([hooks.runTerminate({ logger }), hooks.runTerminate({ logger })]);
    expect(ran).toEqual(['first', 'second']);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', event: 'app.terminate_failed', name: 'first' });
    expect(lines[0]).not.toContain('boom');
  });
});
