// Durability of the local Service Bus broker: with a data directory, every acknowledged send and settlement is in
// the journal before the SDK sees its acknowledgement, and a restarted broker (even after SIGKILL) has them back.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServiceBusConnectionString, startServiceBusBroker } from '../../../infra/local/servicebus/start-broker';
import { buildBrokerMain, killBroker, spawnBroker, type BrokerProcess } from './broker-process';

// Queue mechanics, not authorization (T1-E's broker checks are in tests/threats/T1-E-sandbox-broker-isolation.test.ts).
const DEV_ALLOW_ALL = 'dev-allow-all' as const;

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-sb-journal-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const noRenew = { maxAutoLockRenewalDurationInMs: 0 } as const;

async function receiveAll(receiver: ServiceBusReceiver, count: number): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + 5000;
  while (out.length < count && Date.now() < deadline) {
    out.push(...(await receiver.receiveMessages(count - out.length, { maxWaitTimeInMs: 1000 })));
  }
  return out;
}

describe('local Service Bus broker: journal', () => {
  it('replays messages, delivery counts, dead letters, session state and duplicate ids after a restart', async () => {
    const dataDir = path.join(dir, 'inproc');
    const queues = [{ name: 'durable' }, { name: 'sess', requiresSession: true }];
    const first = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL, dataDir, queues });
    let c = new ServiceBusClient(first.connectionString);
    const sender = c.createSender('durable');
    await sender.sendMessages([1, 2, 3, 4].map((n) => ({ body: `m${n}`, messageId: `id-${n}` })));
    await c.createSender('sess').sendMessages([{ body: 's1', sessionId: 'S' }, { body: 's2', sessionId: 'S' }]);
    const receiver = c.createReceiver('durable', noRenew);
    // m4 is still locked when the broker stops: locks are not persisted, so it is back after the restart.
    const [m1, m2, m3] = await receiveAll(receiver, 4);
    await receiver.completeMessage(m1!);
    await receiver.abandonMessage(m2!);
    await receiver.deadLetterMessage(m3!, { deadLetterReason: 'Bad', deadLetterErrorDescription: 'kept across restart' });
    const session = await c.acceptSession('sess', 'S', noRenew);
    const [s1] = await receiveAll(session as unknown as ServiceBusReceiver, 1);
    await session.completeMessage(s1!);
    await session.setSessionState('checkpoint-1');
    await session.close();
    const lastSeq = m3!.sequenceNumber!.toNumber();
    await c.close();
    await first.stop();

    const second = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL, dataDir, queues });
    // The restart compacted the journal: it now holds live state only, no settled message.
    const compacted = await fs.readFile(path.join(dataDir, 'servicebus-journal.log'), 'utf8');
    expect(compacted).not.toContain('"t":"del"');
    expect(compacted.trim().split('\n').filter((l) => l.includes('"t":"enq"'))).toHaveLength(4); // m2, m4, dead m3, s2
    c = new ServiceBusClient(second.connectionString);
    try {
      const r = c.createReceiver('durable', noRenew);
      const back = await receiveAll(r, 2);
      expect(back.map((m) => [m.body, m.deliveryCount])).toEqual([['m2', 1], ['m4', 0]]);
      // Duplicate detection remembers ids sent before the restart.
      await c.createSender('durable').sendMessages({ body: 'again', messageId: 'id-1' });
      await c.createSender('durable').sendMessages({ body: 'm5', messageId: 'id-5' });
      const [fresh] = await receiveAll(r, 1);
      expect(fresh!.body).toBe('m5');
      expect(fresh!.sequenceNumber!.toNumber()).toBeGreaterThan(lastSeq + 1);
      for (const m of [...back, fresh!]) await r.completeMessage(m);
      const dlq = c.createReceiver('durable', { ...noRenew, subQueueType: 'deadLetter' });
      const [dead] = await receiveAll(dlq, 1);
      expect([dead!.body, dead!.deadLetterReason, dead!.deadLetterErrorDescription]).toEqual(['m3', 'Bad', 'kept across restart']);
      await dlq.completeMessage(dead!);
      const s = await c.acceptSession('sess', 'S', noRenew);
      expect(await s.getSessionState()).toBe('checkpoint-1');
      expect((await receiveAll(s as unknown as ServiceBusReceiver, 1)).map((m) => m.body)).toEqual(['s2']);
    } finally {
      await c.close();
      await second.stop();
    }
  });

  it('starts from a journal whose last line was torn by a crash, keeping every complete record', async () => {
    const dataDir = path.join(dir, 'torn');
    const first = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL, dataDir });
    let c = new ServiceBusClient(first.connectionString);
    await c.createSender('torn').sendMessages([{ body: 'kept-1' }, { body: 'kept-2' }]);
    await c.close();
    await first.stop();
    await fs.appendFile(path.join(dataDir, 'servicebus-journal.log'), '{"t":"enq","e":"torn","s":3,"at":1,"m":"AFNw');
    const second = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL, dataDir });
    c = new ServiceBusClient(second.connectionString);
    try {
      const r = c.createReceiver('torn', { receiveMode: 'receiveAndDelete' });
      expect((await receiveAll(r, 2)).map((m) => m.body)).toEqual(['kept-1', 'kept-2']);
      expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    } finally {
      await c.close();
      await second.stop();
    }
  });

  it('keeps an acknowledged send across SIGKILL of the broker process, and exits cleanly on SIGTERM', async () => {
    const script = await buildBrokerMain(path.join(dir, 'build'));
    const dataDir = path.join(dir, 'child');
    let proc: BrokerProcess = await spawnBroker(script, ['--port', '0', '--data-dir', dataDir, '--dev-allow-all']);
    let c = new ServiceBusClient(localServiceBusConnectionString('127.0.0.1', proc.port));
    const ids = Array.from({ length: 20 }, (_, i) => `ack-${i}`);
    try {
      const sender = c.createSender('crash');
      for (const id of ids) await sender.sendMessages({ body: id, messageId: id });
    } finally {
      await c.close();
    }
    const killed = await killBroker(proc, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');

    proc = await spawnBroker(script, ['--port', '0', '--data-dir', dataDir, '--dev-allow-all']);
    c = new ServiceBusClient(localServiceBusConnectionString('127.0.0.1', proc.port));
    try {
      const r = c.createReceiver('crash', { receiveMode: 'receiveAndDelete' });
      const got = await receiveAll(r, ids.length);
      expect(got.map((m) => m.messageId)).toEqual(ids);
    } finally {
      await c.close();
    }
    expect(await killBroker(proc, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
