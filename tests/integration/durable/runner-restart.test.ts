// Durability: orchestrations waiting on a timer, on an external event and on an activity that never reported survive
// a runner stop AND an Azurite restart on the same persistent workspace; a new runner resumes them, fires the timer
// that came due while everything was down, adopts the orphaned activity, and keeps the history from before intact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { DurableRegistry, registerActivity, registerOrchestration } from '../../../adapters/durable/durable-registry';
import { redact } from '../../../core/secrets/redacted';
import type { OrchestrationHistoryEvent, OrchestrationStatus } from '../../../core/ports/orchestration-client.port';

const calls = new Map<string, number>();
let slowCalls = 0;

/** What a fresh process registers: the same functions, a new registry. */
function buildRegistry(): DurableRegistry {
  const registry = new DurableRegistry();
  const reg = { registry, azure: false };
  registerActivity('step', (name) => {
    calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
    return `did ${String(name)}`;
  }, reg);
  registerActivity('slow', () => {
    slowCalls++;
    // The first run hangs like a process that died mid-activity; the adopted re-run answers.
    return slowCalls === 1 ? new Promise(() => undefined) : 'finally';
  }, reg);
  registerOrchestration('timerThenStep', function* (ctx) {
    const a: unknown = yield ctx.df.callActivity('step', 'timer-a');
    ctx.df.setCustomStatus('sleeping');
    yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + (ctx.df.getInput() as number)));
    const b: unknown = yield ctx.df.callActivity('step', 'timer-b');
    ctx.df.setCustomStatus('done');
    return { a, b };
  }, reg);
  registerOrchestration('eventThenStep', function* (ctx) {
    const a: unknown = yield ctx.df.callActivity('step', 'event-a');
    ctx.df.setCustomStatus('waiting');
    const go: unknown = yield ctx.df.waitForExternalEvent('Go');
    const b: unknown = yield ctx.df.callActivity('step', 'event-b');
    return { a, go, b };
  }, reg);
  registerOrchestration('slowActivity', function* (ctx) {
    ctx.df.setCustomStatus('calling');
    return yield ctx.df.callActivity('slow', null);
  }, reg);
  return registry;
}

const location = mkdtempSync(join(tmpdir(), 'kars-azurite-restart-'));
const handles: Array<AzuriteHandle | LocalDurableRunner> = [];

afterAll(async () => {
  for (const h of handles.reverse()) await h.stop();
  rmSync(location, { recursive: true, force: true });
});

async function waitFor(runner: LocalDurableRunner, id: string, predicate: (s: OrchestrationStatus) => boolean): Promise<OrchestrationStatus> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await runner.getStatus(id);
    if (predicate(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting; status ${s.runtimeStatus} ${JSON.stringify(s.customStatus)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function start(): Promise<{ azurite: AzuriteHandle; runner: LocalDurableRunner }> {
  const azurite = await startAzurite({ location, blobPort: 0, queuePort: 0, tablePort: 0 });
  handles.push(azurite);
  const runner = await startLocalDurableRunner({
    connectionString: redact(azurite.connectionString),
    taskHub: 'RestartTest',
    registry: buildRegistry(),
    pollIntervalMs: 200,
    stopTimeoutMs: 200,
  });
  handles.push(runner);
  return { azurite, runner };
}

const withoutTimestamps = (h: OrchestrationHistoryEvent[]) => h.map(({ timestamp: _t, ...rest }) => rest);

describe('local Durable runner across a restart', () => {
  it('resumes timer, event and orphaned-activity orchestrations on the same storage with history intact', async () => {
    const first = await start();
    const timerId = await first.runner.startNew('timerThenStep', { instanceId: 'restart-timer', input: 1200 });
    const eventId = await first.runner.startNew('eventThenStep', { instanceId: 'restart-event' });
    const slowId = await first.runner.startNew('slowActivity', { instanceId: 'restart-slow' });
    await waitFor(first.runner, timerId, (s) => s.customStatus === 'sleeping');
    await waitFor(first.runner, eventId, (s) => s.customStatus === 'waiting');
    await waitFor(first.runner, slowId, (s) => s.customStatus === 'calling');
    while (slowCalls < 1) await new Promise((r) => setTimeout(r, 10));

    const before = new Map<string, OrchestrationHistoryEvent[]>();
    for (const id of [timerId, eventId, slowId]) before.set(id, (await first.runner.getStatus(id, { showHistory: true })).history!);
    const timerCreated = before.get(timerId)!.find((e) => e.eventType === 'TimerCreated')!;
    const fireAtMs = Date.parse(timerCreated.fireAt!);

    // Stop everything: the runner (the hung activity is abandoned) and the storage emulator itself.
    await first.runner.stop();
    await first.azurite.stop();
    // Let the timer come due while nothing runs.
    const wait = fireAtMs - Date.now() + 50;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    const second = await start();
    expect(second.azurite.tablePort).not.toBe(0);

    const timerDone = await second.runner.waitForCompletion(timerId, { timeoutMs: 15_000 });
    expect(timerDone.runtimeStatus).toBe('Completed');
    expect(timerDone.output).toEqual({ a: 'did timer-a', b: 'did timer-b' });
    expect(timerDone.customStatus).toBe('done');

    const stillWaiting = await second.runner.getStatus(eventId);
    expect(stillWaiting.runtimeStatus).toBe('Running');
    await second.runner.raiseEvent(eventId, 'Go', { after: 'restart' });
    const eventDone = await second.runner.waitForCompletion(eventId, { timeoutMs: 15_000 });
    expect(eventDone.output).toEqual({ a: 'did event-a', go: { after: 'restart' }, b: 'did event-b' });

    const slowDone = await second.runner.waitForCompletion(slowId, { timeoutMs: 15_000 });
    expect(slowDone.output).toBe('finally');
    // At-least-once: the orphan ran again, but exactly one completion entered history.
    expect(slowCalls).toBe(2);

    // Activities that had reported before the restart did not run again.
    expect(calls.get('timer-a')).toBe(1);
    expect(calls.get('timer-b')).toBe(1);
    expect(calls.get('event-a')).toBe(1);
    expect(calls.get('event-b')).toBe(1);

    for (const id of [timerId, eventId, slowId]) {
      const after = (await second.runner.getStatus(id, { showHistory: true })).history!;
      const prior = before.get(id)!;
      // The pre-restart history is an exact prefix of the final one.
      expect(after.slice(0, prior.length)).toEqual(prior);
      expect(after.length).toBeGreaterThan(prior.length);
      expect(after.filter((e) => e.eventType === 'ExecutionStarted')).toHaveLength(1);
      const completions = after.filter((e) => e.eventType === 'TaskCompleted').map((e) => e.taskScheduledId);
      expect(new Set(completions).size).toBe(completions.length);
    }
    const timerHistory = withoutTimestamps((await second.runner.getStatus(timerId, { showHistory: true })).history!);
    expect(timerHistory.filter((e) => e.eventType === 'TimerFired')).toEqual([{ eventType: 'TimerFired', timerId: timerCreated.eventId, fireAt: timerCreated.fireAt }]);
  });
});
