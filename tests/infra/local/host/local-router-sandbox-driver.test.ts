// The local SandboxDriver against real demo router processes (the compiled router: `npm run build` first, as for the e2e tests): an apply
// restarts the router, health comes from the router's own /healthz and names the revision it runs, a revision the
// router refuses leaves it degraded, and the applied revisions survive a supervisor restart (journal on disk).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRouterSandboxDriver } from '../../../../infra/local/host/local-router-sandbox-driver';
import { RouterSupervisor } from '../../../../infra/local/stack/router-supervisor';
import { startRouterControlServer, type RouterControlServer } from '../../../../infra/local/stack/router-control-server';
import type { SandboxDriver, SandboxHealthReport } from '../../../../core/ports/sandbox-driver.port';

const ROUTER_MAIN = join(__dirname, '../../../../dist/sandbox-node/router/main.js');
const KEY = 'test-control-key-0123456789';
const baseEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  KARS_ROUTER_MODEL_ENDPOINT: 'https://example-resource.openai.azure.com',
  KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini',
  KARS_ROUTER_DRAIN_MS: '1000',
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function startStack(dataDir: string): Promise<{ supervisor: RouterSupervisor; control: RouterControlServer; driver: SandboxDriver }> {
  const supervisor = await RouterSupervisor.start({
    routerMain: ROUTER_MAIN, dataDir, baseEnv, sandboxes: [{ id: 'box-a', listen: '127.0.0.1:0' }, { id: 'box-b', listen: '127.0.0.1:0' }],
  });
  const control = await startRouterControlServer(() => supervisor, KEY);
  return { supervisor, control, driver: new LocalRouterSandboxDriver({ controlUrl: control.url, controlKey: KEY }) };
}

async function until(driver: SandboxDriver, id: string, done: (r: SandboxHealthReport) => boolean): Promise<SandboxHealthReport> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await driver.readHealth(id);
    if (done(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('local router SandboxDriver', () => {
  it('restarts the router with the revision, reads health from /healthz, degrades on a refused revision, survives restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kars-routers-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let stack = await startStack(dir);
    cleanup.push(async () => { await stack.control.close(); await stack.supervisor.stop(); });
    const { driver } = stack;

    // Before any rollout the router answers but runs no revision: not healthy at v1.
    expect(await driver.readHealth('box-a')).toEqual({ sandboxId: 'box-a', revisionId: null, status: 'healthy' });
    const pidBefore = stack.supervisor.status('box-a')!.pid;

    const v1 = { id: 'v1', spec: { env: { KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini,gpt-4o' } } };
    expect(await driver.applyRevision('box-a', v1)).toEqual({ sandboxId: 'box-a', previous: null });
    const healthy = await until(driver, 'box-a', (r) => r.status === 'healthy' && r.revisionId === 'v1');
    expect(healthy).toEqual({ sandboxId: 'box-a', revisionId: 'v1', status: 'healthy' });
    expect(stack.supervisor.status('box-a')!.pid).not.toBe(pidBefore);
    // Idempotent: the same revision again keeps the recorded rollback target and does not restart.
    const pidV1 = stack.supervisor.status('box-a')!.pid;
    expect(await driver.applyRevision('box-a', v1)).toEqual({ sandboxId: 'box-a', previous: null });
    expect(stack.supervisor.status('box-a')!.pid).toBe(pidV1);

    // A revision whose settings the router refuses (no deployments): the process exits, health says degraded.
    const bad = { id: 'v2-bad', spec: { env: { KARS_ROUTER_DEPLOYMENTS: ' , ' } } };
    expect(await driver.applyRevision('box-a', bad)).toEqual({ sandboxId: 'box-a', previous: v1 });
    const degraded = await until(driver, 'box-a', (r) => r.status === 'degraded');
    expect(degraded).toMatchObject({ status: 'degraded', reason: 'ProcessExited', revisionId: 'v2-bad' });
    // Settings outside the allowlist never reach the router.
    const sneaky = { id: 'v3', spec: { env: { KARS_ROUTER_MODEL_ENDPOINT: 'https://evil.example' } } };
    await driver.applyRevision('box-b', sneaky);
    expect(await until(driver, 'box-b', (r) => r.status === 'healthy' && r.revisionId === 'v3')).toMatchObject({ status: 'healthy' });

    // Restart the supervisor (as after a stack crash): routers come back at their journaled revisions, rollback
    // targets intact.
    await stack.control.close();
    await stack.supervisor.stop();
    stack = await startStack(dir);
    expect(await stack.driver.applyRevision('box-a', bad)).toEqual({ sandboxId: 'box-a', previous: v1 });
    expect(await stack.driver.applyRevision('box-a', v1)).toEqual({ sandboxId: 'box-a', previous: bad });
    expect(await until(stack.driver, 'box-a', (r) => r.status === 'healthy' && r.revisionId === 'v1')).toMatchObject({ status: 'healthy' });
    expect(await until(stack.driver, 'box-b', (r) => r.status === 'healthy' && r.revisionId === 'v3')).toMatchObject({ revisionId: 'v3' });

    expect(await stack.driver.readHealth('nope')).toEqual({ sandboxId: 'nope', revisionId: null, status: 'missing' });
    await expect(stack.driver.applyRevision('nope', v1)).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND' });
    await expect(new LocalRouterSandboxDriver({ controlUrl: stack.control.url, controlKey: 'wrong' }).applyRevision('box-a', v1))
      .rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  }, 90_000);
});
