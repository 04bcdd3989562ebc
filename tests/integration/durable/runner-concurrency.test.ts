// Two runners on one store never both advance an instance: commits are conditioned on the instance row's ETag and
// consuming an inbox message is part of the same transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as df from 'durable-functions';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { startLocalDurableRunner, type LocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { TableInstanceStore } from '../../../infra/local/durable/table-instance-store';
import { historyEvents } from '../../../infra/local/durable/history-event';
import { DurableRegistry, registerActivity, registerOrchestration } from '../../../adapters/durable/durable-registry';
import { redact } from '../../../core/secrets/redacted';

let azurite: AzuriteHandle;
let store: TableInstanceStore;

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
  store = await TableInstanceStore.open({ connectionString: redact(azurite.connectionString), taskHub: 'ConcurrencyTest' });
});

afterAll(async () => {
  await azurite?.stop();
});

const ts = () => new Date().toISOString();

describe('instance store concurrency', () => {
  it('lets only the first of two commits from the same read land', async () => {
    await store.create({ instanceId: 'race-1', name: 'x', executionId: 'e1', runtimeStatus: 'Pending', createdTime: ts(), lastUpdatedTime: ts(), historyLength: 0 });
    const a = (await store.load('race-1'))!;
    const b = (await store.load('race-1'))!;
    const eventsA = [historyEvents.orchestratorStarted(ts()), historyEvents.executionStarted(ts(), 'x', '"A"')];
    const eventsB = [historyEvents.orchestratorStarted(ts()), historyEvents.executionStarted(ts(), 'x', '"B"')];
    await store.commit(a.instance, { etag: a.instance.etag, historyStart: 0, events: eventsA, patch: { runtimeStatus: 'Running', historyLength: 2 }, deleteMessages: [] });
    await expect(
      store.commit(b.instance, { etag: b.instance.etag, historyStart: 0, events: eventsB, patch: { runtimeStatus: 'Running', historyLength: 2 }, deleteMessages: [] }),
    ).rejects.toMatchObject({ code: 'STORE_PRECONDITION_FAILED' });
    const after = (await store.load('race-1'))!;
    expect(after.history.map((e) => e.Input)).toEqual([undefined, '"A"']);
  });

  it('consumes an inbox message exactly once', async () => {
    await store.create({ instanceId: 'race-2', name: 'x', executionId: 'e1', runtimeStatus: 'Running', createdTime: ts(), lastUpdatedTime: ts(), historyLength: 0 });
    await store.appendMessage('race-2', { kind: 'EventRaised', name: 'Go', dataJson: '1' }, Date.now());
    const a = (await store.load('race-2'))!;
    expect(a.messages).toHaveLength(1);
    const rowKey = a.messages[0]!.rowKey;
    const first = await store.commit(a.instance, { etag: a.instance.etag, historyStart: 0, events: [], patch: {}, deleteMessages: [rowKey] });
    expect(first).not.toBe(a.instance.etag);
    // Even with the fresh ETag, deleting the already-consumed message fails the whole transaction.
    const b = (await store.load('race-2'))!;
    expect(b.messages).toHaveLength(0);
    await expect(
      store.commit(b.instance, { etag: b.instance.etag, historyStart: 0, events: [historyEvents.orchestratorStarted(ts())], patch: { historyLength: 1 }, deleteMessages: [rowKey] }),
    ).rejects.toMatchObject({ code: 'STORE_PRECONDITION_FAILED' });
    expect((await store.load('race-2'))!.history).toHaveLength(0);
  });
});

describe('two runners on one task hub', () => {
  let runners: LocalDurableRunner[] = [];
  afterAll(async () => {
    for (const r of runners) await r.stop();
  });

  it('complete every instance once, with one completion per scheduled task', async () => {
    const build = () => {
      const registry = new DurableRegistry();
      const reg = { registry, azure: false };
      registerActivity('inc', (n) => Number(n) + 1, reg);
      registerOrchestration('chain', function* (ctx) {
        let n = 0;
        for (let i = 0; i < 4; i++) {
          n = (yield ctx.df.callActivity('inc', n)) as number;
          yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 20));
        }
        return n;
      }, reg);
      return registry;
    };
    const cs = redact(azurite.connectionString);
    runners = [
      await startLocalDurableRunner({ connectionString: cs, taskHub: 'TwoRunners', registry: build(), pollIntervalMs: 30, runnerId: 'a' }),
      await startLocalDurableRunner({ connectionString: cs, taskHub: 'TwoRunners', registry: build(), pollIntervalMs: 30, runnerId: 'b' }),
    ];
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => runners[i % 2]!.startNew('chain', { instanceId: `two-${i}` })));
    for (const id of ids) {
      const s = await runners[0]!.waitForCompletion(id, { timeoutMs: 20_000 });
      expect(s.runtimeStatus).toBe('Completed');
      expect(s.output).toBe(4);
      const h = (await runners[1]!.getStatus(id, { showHistory: true })).history!;
      expect(h.filter((e) => e.eventType === 'ExecutionStarted')).toHaveLength(1);
      expect(h.filter((e) => e.eventType === 'ExecutionCompleted')).toHaveLength(1);
      const scheduled = h.filter((e) => e.eventType === 'TaskScheduled').map((e) => e.eventId);
      const completed = h.filter((e) => e.eventType === 'TaskCompleted').map((e) => e.taskScheduledId);
      expect(completed.sort()).toEqual(scheduled.sort());
      expect(h.filter((e) => e.eventType === 'TimerFired')).toHaveLength(4);
    }
  });
});

describe('a runner that does not know an orchestrator', () => {
  it('leaves its instances and their events untouched until the orchestrator is registered', async () => {
    const cs = redact(azurite.connectionString);
    const full = new DurableRegistry();
    const waitForGo = function* (ctx: df.OrchestrationContext) {
      const go: unknown = yield ctx.df.waitForExternalEvent('Go');
      return go;
    };
    registerOrchestration('waitsForGo', waitForGo, { registry: full, azure: false });
    const first = await startLocalDurableRunner({ connectionString: cs, taskHub: 'LateBinding', registry: full, pollIntervalMs: 50 });
    const id = await first.startNew('waitsForGo', { instanceId: 'late-1' });
    while ((await first.getStatus(id)).runtimeStatus !== 'Running') await new Promise((r) => setTimeout(r, 20));
    await first.stop();

    const empty = new DurableRegistry();
    const second = await startLocalDurableRunner({ connectionString: cs, taskHub: 'LateBinding', registry: empty, pollIntervalMs: 50 });
    try {
      await second.raiseEvent(id, 'Go', 'now');
      await new Promise((r) => setTimeout(r, 300));
      expect((await second.getStatus(id)).runtimeStatus).toBe('Running');
      registerOrchestration('waitsForGo', waitForGo, { registry: empty, azure: false });
      const done = await second.waitForCompletion(id, { timeoutMs: 10_000 });
      expect(done.runtimeStatus).toBe('Completed');
      expect(done.output).toBe('now');
    } finally {
      await second.stop();
    }
  });
});
