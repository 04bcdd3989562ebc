// Local Service Bus broker driven by the real @azure/service-bus SDK: peek-lock settlement (link and $management),
// lock renewal and enforced expiry, dead-lettering, max delivery count, duplicate detection, receiveAndDelete,
// batches, annotations, and clear errors for what the broker does not implement.
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceBusBroker, type ServiceBusBrokerHandle } from '../../../infra/local/servicebus/start-broker';
import { errorCode, noRenew, receiveAll, sleep } from './sdk-helpers';

// Queue mechanics, not authorization (T1-E's broker checks are in tests/threats/T1-E-sandbox-broker-isolation.test.ts).
const DEV_ALLOW_ALL = 'dev-allow-all' as const;

const LOCK_MS = 1000;
let broker: ServiceBusBrokerHandle;
let client: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL,
    strictQueues: true,
    queues: [
      { name: 'work' }, { name: 'mgmt' }, { name: 'locks', lockDurationMs: LOCK_MS }, { name: 'retry', maxDeliveryCount: 3 },
      { name: 'dups', duplicateDetectionWindowMs: 60_000 }, { name: 'nodups', duplicateDetectionWindowMs: 0 },
      { name: 'rad' }, { name: 'Mixed-Case' }, { name: 'many' }, { name: 'odd' }, { name: 'sessions', requiresSession: true },
    ],
  });
  client = new ServiceBusClient(broker.connectionString, { retryOptions: { timeoutInMs: 5000, maxRetries: 1 } });
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

describe('local Service Bus broker: queues (real SDK)', () => {
  it('sends single, array and batch messages; delivers them in order with the annotations the SDK reads', async () => {
    const sender = client.createSender('work');
    const before = Date.now();
    await sender.sendMessages({ body: 'single', messageId: 'w-1' });
    await sender.sendMessages([{ body: 'array-1' }, { body: { n: 2 } }]);
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(1024 * 1024);
    expect(batch.tryAddMessage({ body: 'batch-1' })).toBe(true);
    expect(batch.tryAddMessage({ body: 'batch-2', applicationProperties: { k: 'v' } })).toBe(true);
    await sender.sendMessages(batch);
    const receiver = client.createReceiver('work', noRenew);
    const got = await receiveAll(receiver, 5);
    expect(got.map((m) => m.body)).toEqual(['single', 'array-1', { n: 2 }, 'batch-1', 'batch-2']);
    expect(got[4]!.applicationProperties).toEqual({ k: 'v' });
    const seqs = got.map((m) => m.sequenceNumber!.toNumber());
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(5);
    for (const m of got) {
      // The broker assigns a message id when the sender did not set one (auto lock renewal needs it).
      expect(typeof m.messageId).toBe('string');
      expect(m.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(m.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(m.lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
      expect(m.state).toBe('active');
      expect(m.deliveryCount).toBe(0);
    }
    expect(got[0]!.messageId).toBe('w-1');
    expect(new Set(got.map((m) => m.lockToken)).size).toBe(5);
    for (const m of got) await receiver.completeMessage(m);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    await receiver.close();
    await sender.close();
  });

  it('settles through $management once the receiving link is closed (complete, abandon, dead-letter)', async () => {
    const sender = client.createSender('mgmt');
    await sender.sendMessages([{ body: 'c', messageId: 'm-c' }, { body: 'a', messageId: 'm-a' }, { body: 'd', messageId: 'm-d' }]);
    const first = client.createReceiver('mgmt', noRenew);
    const [c, a, d] = await receiveAll(first, 3);
    await first.close();
    // A second receiver settles messages it did not receive: the SDK falls back to update-disposition by lock token.
    const second = client.createReceiver('mgmt', noRenew);
    await second.completeMessage(c!);
    await second.abandonMessage(a!);
    await second.deadLetterMessage(d!, { deadLetterReason: 'ViaManagement', deadLetterErrorDescription: 'settled by token' });
    const [again] = await receiveAll(second, 1);
    expect(again!.messageId).toBe('m-a');
    expect(again!.deliveryCount).toBe(1);
    await second.completeMessage(again!);
    // The DLQ address is matched case-insensitively.
    const dlq = client.createReceiver('MGMT/$deadletterqueue', noRenew);
    const [dead] = await receiveAll(dlq, 1);
    expect(dead!.messageId).toBe('m-d');
    expect(dead!.deadLetterReason).toBe('ViaManagement');
    expect(dead!.deadLetterErrorDescription).toBe('settled by token');
    expect(dead!.deadLetterSource).toBe('mgmt');
    await dlq.completeMessage(dead!);
    await Promise.all([second.close(), dlq.close(), sender.close()]);
  });

  it('renews a lock (com.microsoft:renew-lock) and enforces expiry: redelivery and MessageLockLost', async () => {
    const sender = client.createSender('locks');
    await sender.sendMessages({ body: 'slow', messageId: 'l-1' });
    const receiver = client.createReceiver('locks', noRenew);
    const [m] = await receiveAll(receiver, 1);
    const firstUntil = m!.lockedUntilUtc!.getTime();
    await sleep(LOCK_MS * 0.6);
    const renewed = await receiver.renewMessageLock(m!);
    expect(renewed.getTime()).toBeGreaterThan(firstUntil);
    await sleep(LOCK_MS * 0.6); // past the first lock, inside the renewed one
    await receiver.completeMessage(m!);

    await sender.sendMessages({ body: 'stalled', messageId: 'l-2' });
    const [stalled] = await receiveAll(receiver, 1);
    await sleep(LOCK_MS + 300);
    expect(await errorCode(receiver.completeMessage(stalled!))).toBe('MessageLockLost');
    expect(await errorCode(receiver.renewMessageLock(stalled!))).toBe('MessageLockLost');
    const [again] = await receiveAll(receiver, 1);
    expect(again!.messageId).toBe('l-2');
    expect(again!.deliveryCount).toBe(1);
    await receiver.completeMessage(again!);
    await Promise.all([receiver.close(), sender.close()]);
  });

  it('dead-letters after maxDeliveryCount deliveries, by abandon and by lock expiry alike', async () => {
    const broker2 = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL, queues: [{ name: 'r', maxDeliveryCount: 3, lockDurationMs: 400 }] });
    const c2 = new ServiceBusClient(broker2.connectionString);
    try {
      await c2.createSender('r').sendMessages({ body: 'poison', messageId: 'p-1' });
      const receiver = c2.createReceiver('r', noRenew);
      const [m0] = await receiveAll(receiver, 1);
      await receiver.abandonMessage(m0!);
      const [m1] = await receiveAll(receiver, 1);
      expect(m1!.deliveryCount).toBe(1);
      await sleep(600); // the second attempt's lock expires
      const [m2] = await receiveAll(receiver, 1);
      expect(m2!.deliveryCount).toBe(2);
      await receiver.abandonMessage(m2!);
      expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
      const dlq = c2.createReceiver('r', { ...noRenew, subQueueType: 'deadLetter' });
      const [dead] = await receiveAll(dlq, 1);
      expect(dead!.messageId).toBe('p-1');
      expect(dead!.deadLetterReason).toBe('MaxDeliveryCountExceeded');
      expect(dead!.deadLetterErrorDescription).toContain('3');
    } finally {
      await c2.close();
      await broker2.stop();
    }
  });

  it('accepts a duplicate on the wire but enqueues it once; a queue with window 0 keeps both', async () => {
    for (const q of ['dups', 'nodups']) {
      const sender = client.createSender(q);
      await sender.sendMessages({ body: 'one', messageId: 'same-id' });
      await sender.sendMessages({ body: 'two', messageId: 'same-id' }); // resolves: accepted on the wire
      await sender.close();
    }
    const dups = client.createReceiver('dups', { receiveMode: 'receiveAndDelete' });
    expect((await dups.receiveMessages(5, { maxWaitTimeInMs: 500 })).map((m) => m.body)).toEqual(['one']);
    const nodups = client.createReceiver('nodups', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAll(nodups, 2)).map((m) => m.body)).toEqual(['one', 'two']);
    await Promise.all([dups.close(), nodups.close()]);
  });

  it('receiveAndDelete removes on delivery; peekMessages does not lock', async () => {
    const sender = client.createSender('rad');
    await sender.sendMessages([{ body: 1 }, { body: 2 }]);
    const peeker = client.createReceiver('rad', noRenew);
    const peeked = await peeker.peekMessages(5);
    expect(peeked.map((m) => m.body)).toEqual([1, 2]);
    expect(peeked[0]!.lockToken).toBeUndefined();
    const rad = client.createReceiver('rad', { receiveMode: 'receiveAndDelete' });
    const got = await receiveAll(rad, 2);
    expect(got.map((m) => m.body)).toEqual([1, 2]);
    expect(got[0]!.lockToken).toBeUndefined();
    expect(await peeker.peekMessages(5, { fromSequenceNumber: peeked[0]!.sequenceNumber! })).toEqual([]);
    await Promise.all([peeker.close(), rad.close(), sender.close()]);
  });

  it('keeps serving past 2048 deliveries and 2048 management requests on one AMQP session', async () => {
    // rhea keeps each delivery in a 2048-slot per-session buffer until both ends settled it: the broker must
    // settle peek-lock deliveries and management replies completely, or the link stalls at the 2049th.
    const total = 2100;
    const sender = client.createSender('many');
    for (let i = 0; i < total; i += 100) {
      await sender.sendMessages(Array.from({ length: 100 }, (_, j) => ({ body: i + j })));
    }
    const receiver = client.createReceiver('many', noRenew);
    let received = 0;
    const deadline = Date.now() + 20_000;
    while (received < total && Date.now() < deadline) {
      const batch = await receiver.receiveMessages(200, { maxWaitTimeInMs: 2000 });
      if (batch.length === 0) break;
      await Promise.all(batch.map((m) => receiver.completeMessage(m)));
      received += batch.length;
    }
    expect(received).toBe(total);
    let answered = 0;
    for (let i = 0; i < total && Date.now() < deadline; i += 100) {
      answered += (await Promise.all(Array.from({ length: 100 }, () => receiver.peekMessages(1)))).length;
    }
    expect(answered).toBe(total);
    await Promise.all([receiver.close(), sender.close()]);
  });

  it('matches queue names case-insensitively', async () => {
    await client.createSender('mixed-case').sendMessages({ body: 'x' });
    const receiver = client.createReceiver('MIXED-CASE', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAll(receiver, 1)).map((m) => m.body)).toEqual(['x']);
    await receiver.close();
  });

  it('answers what it does not implement with clear errors, quickly', async () => {
    const started = Date.now();
    const sender = client.createSender('odd');
    // Unknown queue (strictQueues): MessagingEntityNotFound.
    expect(await errorCode(client.createSender('missing').sendMessages({ body: 1 }))).toBe('MessagingEntityNotFound');
    // Scheduled messages and deferral are outside the subset.
    await expect(sender.scheduleMessages({ body: 1 }, new Date(Date.now() + 60_000))).rejects.toThrow(/not supported/);
    await expect(sender.sendMessages({ body: 1, scheduledEnqueueTimeUtc: new Date(Date.now() + 60_000) }))
      .rejects.toThrow(/not supported/);
    await sender.sendMessages({ body: 'defer-me' });
    const receiver = client.createReceiver('odd', noRenew);
    const [m] = await receiveAll(receiver, 1);
    await expect(receiver.deferMessage(m!)).rejects.toThrow(/not supported/);
    // The refused deferral changed nothing: the message is still in the queue (locked until its lock ends).
    expect((await receiver.peekMessages(5)).map((p) => p.body)).toEqual(['defer-me']);
    // A session queue refuses messages without a session id and plain receivers.
    await expect(client.createSender('sessions').sendMessages({ body: 1 })).rejects.toThrow(/SessionId/);
    await expect(client.createReceiver('sessions').receiveMessages(1, { maxWaitTimeInMs: 500 })).rejects.toThrow(/sessions/);
    // Session receivers need a session queue (the SDK reports any refused session attach as SessionCannotBeLocked);
    // a dead-letter queue takes no sends.
    expect(await errorCode(client.acceptSession('odd', 'S'))).toBe('SessionCannotBeLocked');
    await expect(client.createSender('odd/$DeadLetterQueue').sendMessages({ body: 1 })).rejects.toThrow(/dead-letter/);
    // Topics and subscriptions are not part of the subset.
    await expect(client.createReceiver('topic', 'sub').receiveMessages(1, { maxWaitTimeInMs: 500 })).rejects.toThrow(/not supported/);
    expect(Date.now() - started).toBeLessThan(20_000);
    await Promise.all([receiver.close(), sender.close()]);
  });
});
