// The sandboxRollout orchestrator, run by the local Durable runner on Azurite against the in-memory SandboxDriver:
// batches with progress, threshold halt + rollback, tolerated failures, retried outages, health timeouts, abort.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { DurableRegistry } from '../../../adapters/durable/durable-registry';
import { MemorySandboxDriver } from '../../../adapters/memory/memory-sandbox-driver';
import { registerRolloutFunctions } from '../../../functions/rollouts/register-rollout-functions';
import { ROLLOUT_ABORT_EVENT, SANDBOX_ROLLOUT_ORCHESTRATOR } from '../../../functions/rollouts/rollout-names';
import { redact } from '../../../core/secrets/redacted';
import type { RolloutRequest } from '../../../core/rollouts/plan-rollout';
import type { RolloutProgress, RolloutResult } from '../../../core/rollouts/rollout-ledger';
import type { SandboxRevision } from '../../../core/ports/sandbox-driver.port';

const v1: SandboxRevision = { id: 'v1', spec: { image: 'agent:1' } };
const v2: SandboxRevision = { id: 'v2', spec: { image: 'agent:2' } };
const fast = { health: { intervalMs: 50, maxChecks: 20 }, applyRetry: { intervalMs: 10, maxAttempts: 3 } };

let azurite: AzuriteHandle;
let runner: LocalDurableRunner;
const driver = new MemorySandboxDriver({ readyAfterChecks: 2 });
const registry = new DurableRegistry();
registerRolloutFunctions({ getSandboxDriver: () => driver }, { registry, azure: false });

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
  runner = await startLocalDurableRunner({ connectionString: redact(azurite.connectionString), taskHub: 'RolloutTest', registry, pollIntervalMs: 250 });
});

afterAll(async () => {
  await runner?.stop();
  await azurite?.stop();
});

function fleet(prefix: string, n: number, revision: SandboxRevision | null = v1): string[] {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) driver.addSandbox(id, revision);
  return ids;
}

async function run(request: RolloutRequest, onRunning?: (id: string) => Promise<void>): Promise<{ result: RolloutResult; progress: RolloutProgress[] }> {
  const id = await runner.startNew(SANDBOX_ROLLOUT_ORCHESTRATOR, { input: request });
  const progress: RolloutProgress[] = [];
  let sideTask: Promise<void> | undefined;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await runner.getStatus(id);
    if (s.customStatus) progress.push(s.customStatus as RolloutProgress);
    if (s.runtimeStatus === 'Completed') {
      await sideTask;
      return { result: s.output as RolloutResult, progress };
    }
    if (s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending') throw new Error(`rollout ${s.runtimeStatus}: ${JSON.stringify(s.output)}`);
    if (onRunning && !sideTask && s.runtimeStatus === 'Running') sideTask = onRunning(id);
    if (Date.now() > deadline) throw new Error('rollout did not finish');
    await new Promise((r) => setTimeout(r, 15));
  }
}

describe('sandboxRollout orchestration', () => {
  it('rolls a canary and then batches, reporting progress until every sandbox is healthy at the new revision', async () => {
    const ids = fleet('ok', 6);
    const { result, progress } = await run({ revision: v2, sandboxIds: ids, canarySize: 1, maxUnavailable: 2, ...fast });
    expect(result).toEqual({ outcome: 'Succeeded', revisionId: 'v2', total: 6, succeeded: ids, failed: [], rolledBack: [], rollbackFailed: [] });
    for (const id of ids) expect(driver.current(id)?.id).toBe('v2');
    // Progress moved forward only, through every batch, and ended complete.
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
      expect(progress[i]!.currentBatch).toBeGreaterThanOrEqual(progress[i - 1]!.currentBatch);
    }
    expect(new Set(progress.map((p) => p.currentBatch))).toEqual(new Set([1, 2, 3, 4]));
    expect(progress.some((p) => p.phase === 'verifying' && p.done > 0 && p.done < 6)).toBe(true);
    expect(progress[progress.length - 1]).toEqual({ phase: 'succeeded', revisionId: 'v2', total: 6, done: 6, failed: 0, currentBatch: 4, batches: 4, rolledBack: 0, wave: { size: 1, done: 1, failed: 0 } });
  });

  it('halts when a sandbox fails past the threshold and rolls every applied sandbox back', async () => {
    const ids = fleet('bad', 5);
    driver.setBehaviour(ids[2]!, { failOnRevision: 'v2' });
    const { result, progress } = await run({ revision: v2, sandboxIds: ids, maxUnavailable: 2, failureThreshold: 0, ...fast });
    expect(result.outcome).toBe('RolledBack');
    expect(result.haltReason).toBe('failure-threshold');
    expect(result.failed).toEqual([{ sandboxId: ids[2], reason: 'CrashLoopBackOff' }]);
    expect(result.rolledBack.sort()).toEqual(ids.slice(0, 4).sort());
    expect(result.succeeded).toEqual([]);
    for (const id of ids) expect(driver.current(id)?.id).toBe('v1');
    // The third batch was never touched.
    expect(driver.applies().filter((a) => a.sandboxId === ids[4])).toEqual([]);
    expect(progress.some((p) => p.phase === 'rolling-back')).toBe(true);
    expect(progress[progress.length - 1]).toMatchObject({ phase: 'rolled-back', rolledBack: 4, failed: 1, haltReason: 'failure-threshold' });
  });

  it('tolerates failures up to the threshold and completes with them reported', async () => {
    const ids = fleet('tol', 4);
    driver.setBehaviour(ids[1]!, { failOnRevision: 'v2' });
    const { result } = await run({ revision: v2, sandboxIds: ids, maxUnavailable: 4, failureThreshold: 1, ...fast });
    expect(result.outcome).toBe('CompletedWithFailures');
    expect(result.failed).toEqual([{ sandboxId: ids[1], reason: 'CrashLoopBackOff' }]);
    expect(result.succeeded).toEqual([ids[0], ids[2], ids[3]]);
  });

  it('retries transient driver outages with back-off and fails unknown sandboxes at once', async () => {
    const ids = fleet('flaky', 2);
    driver.setBehaviour(ids[0]!, { applyErrors: ['DEPENDENCY_UNAVAILABLE', 'DEPENDENCY_TIMEOUT'] });
    const { result } = await run({ revision: v2, sandboxIds: [...ids, 'ghost-0'], maxUnavailable: 3, failureThreshold: 1, ...fast });
    expect(result.outcome).toBe('CompletedWithFailures');
    expect(result.succeeded).toEqual(ids);
    expect(result.failed).toEqual([{ sandboxId: 'ghost-0', reason: 'SANDBOX_NOT_FOUND' }]);
  });

  it('fails a sandbox that never turns healthy within maxChecks, then rolls back', async () => {
    const ids = fleet('slow', 2);
    driver.setBehaviour(ids[1]!, { neverReady: true });
    const { result } = await run({ revision: v2, sandboxIds: ids, maxUnavailable: 2, health: { intervalMs: 50, maxChecks: 3 }, applyRetry: fast.applyRetry });
    expect(result.outcome).toBe('RolledBack');
    expect(result.failed).toEqual([{ sandboxId: ids[1], reason: 'health-timeout' }]);
    // The stuck sandbox went back to v1 but never reported healthy again, so its rollback is reported as failed.
    expect(result.rolledBack).toEqual([ids[0]]);
    expect(result.rollbackFailed).toEqual([{ sandboxId: ids[1], reason: 'health-timeout' }]);
    for (const id of ids) expect(driver.current(id)?.id).toBe('v1');
  });

  it('reports sandboxes without a previous revision as not restorable', async () => {
    const [fresh] = fleet('fresh', 1, null);
    driver.setBehaviour(fresh!, { failOnRevision: 'v2' });
    const { result } = await run({ revision: v2, sandboxIds: [fresh!], ...fast });
    expect(result.outcome).toBe('RolledBack');
    expect(result.rollbackFailed).toEqual([{ sandboxId: fresh, reason: 'no-previous-revision' }]);
    expect(driver.current(fresh!)?.id).toBe('v2');
  });

  it('halts and rolls back when an operator raises the abort event', async () => {
    const ids = fleet('abort', 3);
    for (const id of ids) driver.setBehaviour(id, { neverReady: true });
    const { result, progress } = await run(
      { revision: v2, sandboxIds: ids, maxUnavailable: 3, health: { intervalMs: 100, maxChecks: 1000 }, applyRetry: fast.applyRetry },
      async (id) => {
        // Wait until the batch is applied and being verified, then abort.
        for (;;) {
          const s = await runner.getStatus(id);
          if ((s.customStatus as RolloutProgress | undefined)?.phase === 'verifying') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const sb of ids) driver.setBehaviour(sb, {});
        await runner.raiseEvent(id, ROLLOUT_ABORT_EVENT, { by: 'test' });
      },
    );
    expect(result.outcome).toBe('RolledBack');
    expect(result.haltReason).toBe('aborted');
    expect(result.rolledBack.sort()).toEqual([...ids].sort());
    for (const id of ids) expect(driver.current(id)?.id).toBe('v1');
    expect(progress[progress.length - 1]).toMatchObject({ phase: 'rolled-back', haltReason: 'aborted' });
  });

  it('fails a directly started rollout whose request does not plan', async () => {
    const id = await runner.startNew(SANDBOX_ROLLOUT_ORCHESTRATOR, { input: { revision: v2, sandboxIds: ['dup', 'dup'] } });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toMatch(/^ROLLOUT_PLAN_INVALID: /);
  });

  it('keeps the orchestrator deterministic: no wall clock, randomness or I/O in its source', () => {
    const src = readFileSync('functions/rollouts/sandbox-rollout-orchestrator.ts', 'utf8').replace(/\/\/.*$/gm, '');
    for (const banned of ['Date.now', 'new Date()', 'Math.random', 'fetch(', 'setTimeout', 'process.env', 'randomUUID']) {
      expect(src.includes(banned), banned).toBe(false);
    }
  });
});
