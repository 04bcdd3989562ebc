// The journal store of the local runner: a commit with a stale ETag or an already consumed message is refused (no
// double advance, no double delivery); what was acknowledged is there after a reopen, also behind a torn last record;
// and the runner on it resumes a waiting orchestration after a restart and delivers an event raised before it.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalInstanceStore } from '../../../infra/local/durable/journal-instance-store';
import { startLocalDurableRunner } from '../../../infra/local/durable/local-durable-runner';
import { DurableRegistry, registerActivity, registerOrchestration } from '../../../adapters/durable/durable-registry';
import { redact } from '../../../core/secrets/redacted';

const dir = mkdtempSync(join(tmpdir(), 'kars-journal-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = { instanceId: 'i-1', name: 'o', executionId: 'e-1', runtimeStatus: 'Pending' as const, createdTime: 't', lastUpdatedTime: 't', historyLength: 0 };
const event = (id: number) => ({ EventType: 0, EventId: id, IsPlayed: false, Timestamp: 't' }) as never;

describe('JournalInstanceStore', () => {
  it('refuses stale commits and double consumption, and keeps what it acknowledged across a reopen and a torn tail', async () => {
    let store = await JournalInstanceStore.open({ dir, taskHub: 'Unit' });
    await store.create(row);
    await expect(store.create(row)).rejects.toMatchObject({ code: 'ORCHESTRATION_INSTANCE_EXISTS' });
    await store.appendMessage('i-1', { kind: 'EventRaised', name: 'Go', dataJson: '1' }, 1000);
    const loaded = (await store.load('i-1'))!;
    const key = loaded.messages[0]!.rowKey;
    const etag = await store.commit(loaded.instance, {
      etag: loaded.instance.etag, historyStart: 0, events: [event(-1), event(0)], patch: { runtimeStatus: 'Running', historyLength: 2 }, deleteMessages: [key],
    });
    // The same episode again (a second runner, or a retry after a lost answer): stale ETag, consumed message.
    await expect(store.commit(loaded.instance, { etag: loaded.instance.etag, historyStart: 0, events: [], patch: {}, deleteMessages: [] }))
      .rejects.toMatchObject({ code: 'STORE_PRECONDITION_FAILED' });
    const now = (await store.load('i-1'))!;
    await expect(store.commit(now.instance, { etag, historyStart: 2, events: [], patch: {}, deleteMessages: [key] }))
      .rejects.toMatchObject({ code: 'STORE_PRECONDITION_FAILED' });
    await store.appendMessage('i-1', { kind: 'Terminate', reason: 'r' }, 2000);
    await store.close();
    // A write torn by a crash after the last acknowledged one.
    appendFileSync(join(dir, 'Unit.journal'), '0badc0de {"t":"msg","id":"i-1","key":"m-9","mess');

    store = await JournalInstanceStore.open({ dir, taskHub: 'Unit' });
    const back = (await store.load('i-1'))!;
    expect(back.instance).toMatchObject({ runtimeStatus: 'Running', historyLength: 2, etag });
    expect(back.history).toHaveLength(2);
    expect(back.messages.map((m) => m.message.kind)).toEqual(['Terminate']);
    expect(await store.listActive()).toEqual([{ instanceId: 'i-1', runtimeStatus: 'Running' }]);
    expect(await store.listInstancesWithMessages()).toEqual(['i-1']);
    await store.close();
  });

  it('runs orchestrations; a restarted runner resumes one waiting for an event raised while it was down', async () => {
    const registry = new DurableRegistry();
    const reg = { registry, azure: false };
    let steps = 0;
    registerActivity('step', () => ++steps, reg);
    registerOrchestration('waitsForGo', function* (ctx) {
      const a: unknown = yield ctx.df.callActivity('step', null);
      ctx.df.setCustomStatus('waiting');
      const go: unknown = yield ctx.df.waitForExternalEvent('Go');
      return { a, go };
    }, reg);
    const options = { connectionString: redact('unused: journal'), taskHub: 'Runner', registry, journalDir: dir, pollIntervalMs: 100 };
    const first = await startLocalDurableRunner(options);
    const id = await first.startNew('waitsForGo', { instanceId: 'w-1' });
    for (let i = 0; i < 100 && (await first.getStatus(id)).customStatus !== 'waiting'; i++) await new Promise((r) => setTimeout(r, 20));
    await first.stop();
    // Raised through a store the stopped runner no longer drives: only the journal carries it to the next runner.
    const store = await JournalInstanceStore.open({ dir, taskHub: 'Runner' });
    await store.appendMessage(id, { kind: 'EventRaised', name: 'Go', dataJson: '"yes"' }, Date.now());
    await store.close();
    const second = await startLocalDurableRunner(options);
    try {
      const done = await second.waitForCompletion(id, { timeoutMs: 10_000 });
      expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { a: 1, go: 'yes' } });
      expect(steps).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
