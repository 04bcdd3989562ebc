// The local Durable runner against a real Azurite: activities, retries, timers, external events, custom status,
// failures, termination, continue-as-new, large payloads and fan-out, all through durable-functions' own executor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as df from 'durable-functions';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { DurableRegistry, registerActivity, registerOrchestration } from '../../../adapters/durable/durable-registry';
import { redact } from '../../../core/secrets/redacted';
import type { OrchestrationStatus } from '../../../core/ports/orchestration-client.port';

let azurite: AzuriteHandle;
let runner: LocalDurableRunner;
const registry = new DurableRegistry();
const reg = { registry, azure: false };
const seenInputs: unknown[] = [];
const flakyCalls = new Map<string, number>();

registerActivity('echo', (input) => {
  seenInputs.push(input);
  return { echoed: input };
}, reg);
registerActivity('flaky', (input) => {
  const key = String(input);
  const n = (flakyCalls.get(key) ?? 0) + 1;
  flakyCalls.set(key, n);
  if (n < 3) throw new Error(`flake ${n}`);
  return `ok after ${n}`;
}, reg);
registerActivity('alwaysFails', () => {
  throw new Error('boom');
}, reg);
registerActivity('big', (n) => 'x'.repeat(Number(n)), reg);
registerActivity('double', (n) => Number(n) * 2, reg);
registerActivity('returnsNothing', () => undefined, reg);

registerOrchestration('activities', function* (ctx) {
  ctx.df.setCustomStatus({ stage: 'one' });
  const a: unknown = yield ctx.df.callActivity('echo', 'plain string');
  const b: unknown = yield ctx.df.Task.all([ctx.df.callActivity('echo', { n: 1 }), ctx.df.callActivity('echo', 2)]);
  const nothing: unknown = yield ctx.df.callActivity('returnsNothing');
  ctx.df.setCustomStatus({ stage: 'two' });
  return { a, b, nothing, input: ctx.df.getInput() };
}, reg);

registerOrchestration('retries', function* (ctx) {
  const key = ctx.df.getInput() as string;
  const recovered: unknown = yield ctx.df.callActivityWithRetry('flaky', new df.RetryOptions(20, 5), key);
  let exhausted = 'not reached';
  try {
    yield ctx.df.callActivityWithRetry('alwaysFails', new df.RetryOptions(20, 2), null);
  } catch (e) {
    exhausted = (e as Error).message;
  }
  return { recovered, exhausted };
}, reg);

registerOrchestration('timer', function* (ctx) {
  const ms = ctx.df.getInput() as number;
  const start = ctx.df.currentUtcDateTime.getTime();
  yield ctx.df.createTimer(new Date(start + ms));
  return ctx.df.currentUtcDateTime.getTime() - start;
}, reg);

registerOrchestration('approval', function* (ctx) {
  const timeoutMs = ctx.df.getInput() as number;
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + timeoutMs));
  const approval = ctx.df.waitForExternalEvent('Approve');
  ctx.df.setCustomStatus('waiting');
  const winner: unknown = yield ctx.df.Task.any([approval, timer]);
  if (winner === approval) {
    timer.cancel();
    return { approved: approval.result };
  }
  return 'timeout';
}, reg);

registerOrchestration('throws', function* (ctx) {
  yield ctx.df.callActivity('echo', 'before');
  throw new Error('orchestrator gave up');
}, reg);

registerOrchestration('unhandledActivityFailure', function* (ctx) {
  yield ctx.df.callActivity('alwaysFails', 1);
}, reg);

registerOrchestration('counter', function* (ctx) {
  const n = ctx.df.getInput() as number;
  if (n >= 3) return n;
  yield ctx.df.callActivity('double', n);
  ctx.df.continueAsNew(n + 1);
  return undefined;
}, reg);

registerOrchestration('subOrchestrator', function* (ctx) {
  yield ctx.df.callSubOrchestrator('activities', 1);
}, reg);

registerOrchestration('badStatus', function* (ctx) {
  ctx.df.setCustomStatus({ n: BigInt(1) });
  yield ctx.df.callActivity('echo', 'x');
}, reg);

registerOrchestration('bigPayload', function* (ctx) {
  const s = (yield ctx.df.callActivity('big', 40_000)) as string;
  return s.length;
}, reg);

registerOrchestration('fanOut', function* (ctx) {
  const n = ctx.df.getInput() as number;
  const results = (yield ctx.df.Task.all(Array.from({ length: n }, (_, i) => ctx.df.callActivity('double', i)))) as number[];
  return results.reduce((a, b) => a + b, 0);
}, reg);

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
  runner = await startLocalDurableRunner({ connectionString: redact(azurite.connectionString), taskHub: 'RunnerTest', registry, pollIntervalMs: 250 });
});

afterAll(async () => {
  await runner?.stop();
  await azurite?.stop();
});

async function waitFor(predicate: (s: OrchestrationStatus) => boolean, id: string, timeoutMs = 10_000): Promise<OrchestrationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await runner.getStatus(id);
    if (predicate(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out; last status ${s.runtimeStatus}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('local Durable runner', () => {
  it('runs activities and Task.all, passes string inputs through unchanged, records custom status and history', async () => {
    const id = await runner.startNew('activities', { input: { hello: 'world' } });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual({
      a: { echoed: 'plain string' },
      b: [{ echoed: { n: 1 } }, { echoed: 2 }],
      nothing: null,
      input: { hello: 'world' },
    });
    expect(s.customStatus).toEqual({ stage: 'two' });
    // The activity saw the string itself, not its JSON encoding.
    expect(seenInputs).toContain('plain string');
    const withHistory = await runner.getStatus(id, { showHistory: true });
    const types = withHistory.history!.map((e) => e.eventType);
    expect(types[0]).toBe('OrchestratorStarted');
    expect(types).toContain('ExecutionStarted');
    expect(types.filter((t) => t === 'TaskScheduled')).toHaveLength(4);
    expect(types.filter((t) => t === 'TaskCompleted')).toHaveLength(4);
    expect(types[types.length - 1]).toBe('ExecutionCompleted');
    const scheduledIds = withHistory.history!.filter((e) => e.eventType === 'TaskScheduled').map((e) => e.eventId);
    expect(scheduledIds).toEqual([0, 1, 2, 3]);
  });

  it('retries activities with the durable timer pairs the library expects, and gives up after the last attempt', async () => {
    const id = await runner.startNew('retries', { input: 'k1' });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual({ recovered: 'ok after 3', exhausted: expect.stringContaining('boom') });
    expect(flakyCalls.get('k1')).toBe(3);
    const h = (await runner.getStatus(id, { showHistory: true })).history!;
    // 2 flaky failures + 2 alwaysFails failures, each followed by a timer.
    expect(h.filter((e) => e.eventType === 'TaskFailed')).toHaveLength(4);
    expect(h.filter((e) => e.eventType === 'TimerFired')).toHaveLength(4);
  });

  it('waits on a durable timer', async () => {
    const started = Date.now();
    const id = await runner.startNew('timer', { input: 400 });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    // currentUtcDateTime advanced at least to the timer's due time.
    expect(s.output as number).toBeGreaterThanOrEqual(400);
  });

  it('delivers an external event to a waiting orchestration and cancels the losing timer', async () => {
    const id = await runner.startNew('approval', { input: 60_000 });
    const waiting = await waitFor((s) => s.customStatus === 'waiting', id);
    expect(waiting.runtimeStatus).toBe('Running');
    await runner.raiseEvent(id, 'Approve', { by: 'operator' });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.output).toEqual({ approved: { by: 'operator' } });
  });

  it('takes the timeout branch when no event arrives', async () => {
    const id = await runner.startNew('approval', { input: 300 });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.output).toBe('timeout');
  });

  it('marks an orchestration Failed when the orchestrator throws or an activity failure is unhandled', async () => {
    const a = await runner.startNew('throws');
    const sa = await runner.waitForCompletion(a, { timeoutMs: 10_000 });
    expect(sa.runtimeStatus).toBe('Failed');
    expect(sa.output).toBe('orchestrator gave up');
    const b = await runner.startNew('unhandledActivityFailure');
    const sb = await runner.waitForCompletion(b, { timeoutMs: 10_000 });
    expect(sb.runtimeStatus).toBe('Failed');
    expect(String(sb.output)).toContain('boom');
  });

  it('fails an orchestration whose custom status cannot be serialised instead of retrying it forever', async () => {
    const id = await runner.startNew('badStatus');
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toBe('customStatus must be JSON-serialisable');
  });

  it('terminates a running orchestration and then refuses events for it', async () => {
    const id = await runner.startNew('approval', { input: 60_000 });
    await waitFor((s) => s.customStatus === 'waiting', id);
    await runner.terminate(id, 'operator stop');
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Terminated');
    expect(s.output).toBe('operator stop');
    await expect(runner.raiseEvent(id, 'Approve', true)).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_RUNNING' });
  });

  it('uses caller-chosen instance ids: refuses a duplicate while running, restarts a finished one', async () => {
    const id = 'fixed-id-1';
    await runner.startNew('approval', { instanceId: id, input: 60_000 });
    await expect(runner.startNew('approval', { instanceId: id, input: 1 })).rejects.toMatchObject({ code: 'ORCHESTRATION_INSTANCE_EXISTS' });
    await runner.terminate(id, 'done');
    await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    await runner.startNew('timer', { instanceId: id, input: 10 });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.name).toBe('timer');
    expect(s.runtimeStatus).toBe('Completed');
    const h = (await runner.getStatus(id, { showHistory: true })).history!;
    expect(h.filter((e) => e.eventType === 'ExecutionStarted')).toHaveLength(1);
  });

  it('reports unknown instances, bad ids and unregistered orchestrators with stable codes', async () => {
    await expect(runner.getStatus('no-such-instance')).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_FOUND' });
    await expect(runner.raiseEvent('no-such-instance', 'x')).rejects.toMatchObject({ code: 'ORCHESTRATION_NOT_FOUND' });
    await expect(runner.getStatus('bad/id')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(runner.startNew('notRegistered')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('continues as new with a fresh history', async () => {
    const id = await runner.startNew('counter', { input: 0 });
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe(3);
    const h = (await runner.getStatus(id, { showHistory: true })).history!;
    expect(h.filter((e) => e.eventType === 'ExecutionStarted')).toHaveLength(1);
    expect(h.find((e) => e.eventType === 'ExecutionStarted')!.input).toBe(3);
  });

  it('fails orchestrations that use APIs the local runner does not implement, naming the API', async () => {
    const id = await runner.startNew('subOrchestrator');
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toContain('CallSubOrchestrator');
  });

  it('moves payloads larger than a table property into blobs and back', async () => {
    const id = await runner.startNew('bigPayload');
    const s = await runner.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(s.output).toBe(40_000);
    const h = (await runner.getStatus(id, { showHistory: true })).history!;
    const completed = h.find((e) => e.eventType === 'TaskCompleted')!;
    expect((completed.result as string).length).toBe(40_000);
  });

  it('fans out over more activities than one table transaction holds', async () => {
    const id = await runner.startNew('fanOut', { input: 120 });
    const s = await runner.waitForCompletion(id, { timeoutMs: 20_000 });
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe(2 * ((119 * 120) / 2));
    const h = (await runner.getStatus(id, { showHistory: true })).history!;
    const completions = h.filter((e) => e.eventType === 'TaskCompleted').map((e) => e.taskScheduledId);
    expect(new Set(completions).size).toBe(120);
    expect(completions).toHaveLength(120);
  });
});
