// `kars rollout start|status|approve|abort` against the real local host, the local Durable runner on Azurite and the
// in-memory SandboxDriver: a gated rollout is started, waits, is approved by the CLI and watched to the end; another
// is aborted and rolls back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main';
import { renderRolloutProgress } from '../../../cli/commands/render-rollout-progress';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { startLocalHost, type LocalHost } from '../../../infra/local/host/local-host';
import { DurableRegistry } from '../../../adapters/durable/durable-registry';
import { MemorySandboxDriver } from '../../../adapters/memory/memory-sandbox-driver';
import { registerRolloutFunctions } from '../../../functions/rollouts/register-rollout-functions';
import { createRolloutRoutes } from '../../../functions/rollouts/rollout-routes';
import { silentLogger } from '../../../core/ports/logger.port';
import { redact } from '../../../core/secrets/redacted';
import type { RolloutProgress } from '../../../core/rollouts/rollout-ledger';

const keys = { functionKey: 'fk-cli-rollout', masterKey: 'mk-cli-rollout' };
const driver = new MemorySandboxDriver({ readyAfterChecks: 1 });
const registry = new DurableRegistry();
registerRolloutFunctions({ getSandboxDriver: () => driver }, { registry, azure: false });

let azurite: AzuriteHandle;
let runner: LocalDurableRunner;
let host: LocalHost;

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
  runner = await startLocalDurableRunner({ connectionString: redact(azurite.connectionString), taskHub: 'CliRollouts', registry, pollIntervalMs: 250 });
  host = await startLocalHost({ routes: createRolloutRoutes({ getClient: () => runner }), keys, logger: silentLogger, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await runner?.stop();
  await azurite?.stop();
});

async function kars(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: { KARS_LOCAL_MASTER_KEY: keys.masterKey }, cwd: process.cwd() });
  return { code, out, err };
}

async function progressOf(id: string): Promise<RolloutProgress | null> {
  const r = await kars('rollout', 'status', id, '--url', host.url, '--json');
  return (JSON.parse(r.out.at(-1)!) as { progress: RolloutProgress | null }).progress;
}

describe('kars rollout', () => {
  it('starts a gated rollout, shows it waiting, approves the waiting wave and watches it to success', async () => {
    for (const id of ['cli-a', 'cli-b', 'cli-c']) driver.addSandbox(id, { id: 'v1', spec: {} });
    const started = await kars('rollout', 'start', '--url', host.url, '--revision', 'v2', '--sandboxes', 'cli-a,cli-b,cli-c',
      '--max-unavailable', '2', '--approve-waves', '2', '--health-interval-ms', '50', '--id', 'cli-rollout-1');
    expect(started).toMatchObject({ code: 0, out: ['rollout cli-rollout-1 started: 3 sandboxes in 2 waves', '  kars rollout status cli-rollout-1 --watch'] });
    const deadline = Date.now() + 15_000;
    while ((await progressOf('cli-rollout-1'))?.awaitingApproval !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const waiting = await kars('rollout', 'status', 'cli-rollout-1', '--url', host.url);
    expect(waiting.code).toBe(0);
    expect(waiting.out[1]).toMatch(/^ {2}wave 1\/2 {2}\[#{20}\] done$/);
    expect(waiting.out[2]).toMatch(/wave 2\/2 .* awaiting approval/);
    expect(driver.current('cli-c')?.id).toBe('v1');

    expect(await kars('rollout', 'approve', 'cli-rollout-1', '--url', host.url)).toMatchObject({ code: 0, out: ['rollout cli-rollout-1: wave 2 approved'] });
    const watched = await kars('rollout', 'status', 'cli-rollout-1', '--watch', '--interval-ms', '50', '--url', host.url);
    expect(watched.code).toBe(0);
    expect(watched.out.slice(-3)).toEqual([
      '  wave 1/2  [####################] done',
      '  wave 2/2  [####################] done',
      '  total   3/3 healthy, 0 failed, 0 rolled back',
    ]);
    expect(driver.current('cli-c')?.id).toBe('v2');
    // Approving again is refused by the API (no wave is waiting any more). Until the orchestrator has taken the first
    // approval a repeat is accepted, and ignored: it names a wave that no longer waits.
    expect((await kars('rollout', 'approve', 'cli-rollout-1', '--wave', '2', '--url', host.url)).code).toBe(1);
  });

  it('aborts a running rollout, which rolls back; --watch exits 1', async () => {
    driver.addSandbox('cli-slow', { id: 'v1', spec: {} });
    driver.setBehaviour('cli-slow', { neverReady: true });
    await kars('rollout', 'start', '--url', host.url, '--revision', 'v2', '--sandboxes', 'cli-slow', '--health-interval-ms', '50', '--id', 'cli-rollout-2');
    const deadline = Date.now() + 15_000;
    while ((await progressOf('cli-rollout-2'))?.phase !== 'verifying' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await kars('rollout', 'abort', 'cli-rollout-2', '--url', host.url)).code).toBe(0);
    driver.setBehaviour('cli-slow', {});
    const watched = await kars('rollout', 'status', 'cli-rollout-2', '--watch', '--interval-ms', '50', '--url', host.url);
    expect(watched.code).toBe(1);
    expect(watched.out.at(-3)).toMatch(/rolled-back \(aborted\)/);
    expect(driver.current('cli-slow')?.id).toBe('v1');
  });

  it('refuses bad usage with exit 2 and an unknown rollout with exit 1', async () => {
    expect((await kars('rollout', 'start', '--url', host.url)).code).toBe(2);
    expect((await kars('rollout', 'status', 'bad id', '--url', host.url)).code).toBe(2);
    expect((await kars('rollout', 'approve', 'x', '--wave', '0', '--url', host.url)).code).toBe(2);
    expect((await kars('rollout', 'status', 'no-such-rollout', '--url', host.url)).code).toBe(1);
  });
});

describe('renderRolloutProgress', () => {
  it('draws a bar for the wave in flight and marks earlier waves', () => {
    const lines = renderRolloutProgress({
      instanceId: 'r', runtimeStatus: 'Running', output: null,
      progress: { phase: 'verifying', revisionId: 'v2', total: 10, done: 5, failed: 1, currentBatch: 2, batches: 3, rolledBack: 0, wave: { size: 4, done: 1, failed: 1 } },
    });
    expect(lines).toEqual([
      'rollout r: revision v2, verifying [Running]',
      '  wave 1/3  [####################] done',
      '  wave 2/3  [#####xxxxx----------] 1/4 healthy, 1 failed',
      '  wave 3/3  [--------------------] waiting',
      '  total   5/10 healthy, 1 failed, 0 rolled back',
    ]);
  });
});
