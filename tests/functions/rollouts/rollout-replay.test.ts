// Replay of finished sandbox rollouts: each scenario (success, a failed wave rolled back, approval timeout, abort) runs
// through the local Durable runner on Azurite; its recorded history is then replayed, in one piece, through
// durable-functions' own executor (the code the Functions host runs on every wake-up). A deterministic orchestrator
// reaches the same result from history alone and asks for nothing new; one whose decisions drift does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { replayEpisode, type ReplayEpisodeResult } from '../../../infra/local/durable/replay-episode';
import { HistoryEventType, type StoredHistoryEvent } from '../../../infra/local/durable/history-event';
import { DurableRegistry } from '../../../adapters/durable/durable-registry';
import { MemorySandboxDriver } from '../../../adapters/memory/memory-sandbox-driver';
import { registerRolloutFunctions } from '../../../functions/rollouts/register-rollout-functions';
import { ROLLOUT_ABORT_EVENT, SANDBOX_ROLLOUT_ORCHESTRATOR } from '../../../functions/rollouts/rollout-names';
import { redact } from '../../../core/secrets/redacted';
import type { OrchestrationHistoryEvent } from '../../../core/ports/orchestration-client.port';
import type { RolloutRequest } from '../../../core/rollouts/plan-rollout';
import type { RolloutProgress, RolloutResult } from '../../../core/rollouts/rollout-ledger';

const v1 = { id: 'v1', spec: {} };
const fast = { health: { intervalMs: 50, maxChecks: 20 }, applyRetry: { intervalMs: 10, maxAttempts: 2 } };
const driver = new MemorySandboxDriver({ readyAfterChecks: 1 });
const registry = new DurableRegistry();
registerRolloutFunctions({ getSandboxDriver: () => driver }, { registry, azure: false });
let azurite: AzuriteHandle;
let runner: LocalDurableRunner;

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
  runner = await startLocalDurableRunner({ connectionString: redact(azurite.connectionString), taskHub: 'RolloutReplay', registry, pollIntervalMs: 250 });
});

afterAll(async () => {
  await runner?.stop();
  await azurite?.stop();
});

/** The runner's public history back in the wire form the executor reads (payloads as JSON text). */
function toStored(e: OrchestrationHistoryEvent): StoredHistoryEvent {
  const type = HistoryEventType[e.eventType as keyof typeof HistoryEventType];
  const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return {
    EventType: type, EventId: e.eventId ?? -1, Timestamp: e.timestamp,
    ...(e.name !== undefined ? { Name: e.name } : {}),
    ...(e.input !== undefined ? { Input: text(e.input) } : {}),
    ...(e.result !== undefined ? { Result: text(e.result) } : {}),
    ...(e.reason !== undefined ? { Reason: e.reason, FailureDetails: { ErrorType: 'Error', ErrorMessage: e.reason } } : {}),
    ...(e.taskScheduledId !== undefined ? { TaskScheduledId: e.taskScheduledId } : {}),
    ...(e.timerId !== undefined ? { TimerId: e.timerId } : {}),
    ...(e.fireAt !== undefined ? { FireAt: e.fireAt } : {}),
  };
}

interface Finished { id: string; request: RolloutRequest; output: RolloutResult; history: StoredHistoryEvent[] }

async function runToEnd(request: RolloutRequest, whileRunning?: (id: string, p: RolloutProgress | null) => Promise<boolean>): Promise<Finished> {
  const id = await runner.startNew(SANDBOX_ROLLOUT_ORCHESTRATOR, { input: request });
  let sideDone = false;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await runner.getStatus(id, { showHistory: true });
    if (s.runtimeStatus === 'Completed') {
      const history = (s.history ?? []).map(toStored).filter((e) => e.EventType !== HistoryEventType.ExecutionCompleted);
      return { id, request, output: s.output as RolloutResult, history };
    }
    if (s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending') throw new Error(`rollout ${s.runtimeStatus}`);
    if (whileRunning && !sideDone) sideDone = await whileRunning(id, (s.customStatus ?? null) as RolloutProgress | null);
    if (Date.now() > deadline) throw new Error('rollout did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function replay(f: Finished, input: RolloutRequest = f.request): Promise<ReplayEpisodeResult> {
  const orchestrator = registry.getOrchestration(SANDBOX_ROLLOUT_ORCHESTRATOR)!;
  const last = f.history.at(-1)!;
  return replayEpisode({ orchestrator, name: SANDBOX_ROLLOUT_ORCHESTRATOR, instanceId: f.id, input, history: f.history, nowMs: Date.parse(last.Timestamp) });
}

async function expectReplayReproduces(f: Finished): Promise<void> {
  // Several wake-ups each: the history holds more than one episode, so this is a replay, not a first run.
  expect(f.history.filter((e) => e.EventType === HistoryEventType.OrchestratorStarted).length).toBeGreaterThan(2);
  const r = await replay(f);
  expect(r.status, r.failureMessage).toBe('completed');
  expect(r.output).toEqual(f.output);
  expect(r.scheduled).toEqual([]);
}

function fleet(prefix: string, n: number): string[] {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) driver.addSandbox(id, v1);
  return ids;
}

describe('sandbox rollout replay through the local runner', () => {
  it('success: every wave rolled; replay reaches the same result', async () => {
    const ids = fleet('replay-ok', 3);
    const f = await runToEnd({ revision: { id: 'v2', spec: {} }, sandboxIds: ids, maxUnavailable: 2, ...fast });
    expect(f.output).toMatchObject({ outcome: 'Succeeded', succeeded: ids });
    await expectReplayReproduces(f);
    // Teeth: an orchestrator whose decisions drift between runs (here other sandboxes, as one reading the clock or
    // randomness would pick) does not reproduce the recorded result from the same history.
    const drifted = await replay(f, { ...f.request, sandboxIds: ['replay-other-0', 'replay-other-1', 'replay-other-2'] });
    expect(drifted.output).not.toEqual(f.output);
  });

  it('a failed wave: halted past the threshold and rolled back; replay reaches the same result', async () => {
    const ids = fleet('replay-fail', 2);
    driver.setBehaviour(ids[1]!, { failOnRevision: 'v2' });
    const f = await runToEnd({ revision: { id: 'v2', spec: {} }, sandboxIds: ids, maxUnavailable: 1, failureThreshold: 0, ...fast });
    expect(f.output).toMatchObject({ outcome: 'RolledBack', haltReason: 'failure-threshold', failed: [{ sandboxId: ids[1] }], rolledBack: ids });
    await expectReplayReproduces(f);
  });

  it('approval timeout: no approval in time, rolled back; replay reaches the same result', async () => {
    const ids = fleet('replay-noapprove', 2);
    const f = await runToEnd({ revision: { id: 'v2', spec: {} }, sandboxIds: ids, maxUnavailable: 1, approval: { batches: [2], timeoutMs: 300 }, ...fast });
    expect(f.output).toMatchObject({ outcome: 'RolledBack', haltReason: 'approval-timeout', rolledBack: [ids[0]] });
    await expectReplayReproduces(f);
  });

  it('abort: raised while waiting for approval, rolled back; replay reaches the same result', async () => {
    const ids = fleet('replay-abort', 2);
    const f = await runToEnd({ revision: { id: 'v2', spec: {} }, sandboxIds: ids, maxUnavailable: 1, approval: { batches: [2], timeoutMs: 60_000 }, ...fast }, async (id, p) => {
      if (p?.awaitingApproval !== 2) return false;
      await runner.raiseEvent(id, ROLLOUT_ABORT_EVENT, {});
      return true;
    });
    expect(f.output).toMatchObject({ outcome: 'RolledBack', haltReason: 'aborted', rolledBack: [ids[0]] });
    await expectReplayReproduces(f);
  });
});
