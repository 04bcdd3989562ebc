// Contract every Bus adapter must pass (memory, and the Service Bus SDK against the local broker): same delivery
// semantics (sessions, peek-lock, dead-lettering, duplicates, lock expiry) and same error codes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busJson, type Bus, type BusReceiver, type ReceivedBusMessage } from '../../core/ports/bus.port';
import { settledCode } from '../support/settled-code';

export interface BusQueueSpec {
  name: string;
  requiresSession?: boolean;
  lockDurationMs?: number;
  maxDeliveryCount?: number;
}

export interface BusUnderTest {
  bus: Bus;
  cleanup?: () => Promise<void>;
}

/**
 * Builds a bus that knows exactly `queues` (unknown queues must fail with BUS_QUEUE_NOT_FOUND) and whose
 * acceptNextSession waits about `sessionWaitMs`.
 */
export type MakeBus = (queues: readonly BusQueueSpec[], sessionWaitMs: number) => Promise<BusUnderTest>;

const SHORT_LOCK_MS = 1200;
const SESSION_WAIT_MS = 1000;

const QUEUES: readonly BusQueueSpec[] = [
  { name: 'plain' },
  { name: 'batch' },
  { name: 'abandon' },
  { name: 'dead', lockDurationMs: SHORT_LOCK_MS },
  { name: 'retry', maxDeliveryCount: 2 },
  { name: 'dups' },
  { name: 'short-lock', lockDurationMs: SHORT_LOCK_MS },
  { name: 'orders', requiresSession: true },
  { name: 'next', requiresSession: true },
  { name: 'short-session', requiresSession: true, lockDurationMs: SHORT_LOCK_MS },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Receives until `count` messages arrived (adapters may hand them out in several batches). */
async function receiveExactly(receiver: BusReceiver, count: number, timeoutMs = 5000): Promise<ReceivedBusMessage[]> {
  const out: ReceivedBusMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    out.push(...(await receiver.receive(count - out.length, { maxWaitMs: Math.max(100, deadline - Date.now()) })));
  }
  return out;
}

const text = (m: ReceivedBusMessage): string => new TextDecoder().decode(m.body);

export function describeBusContract(label: string, make: MakeBus): void {
  describe(`Bus contract: ${label}`, () => {
    let bus: Bus;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ bus, cleanup } = await make(QUEUES, SESSION_WAIT_MS));
    });
    afterAll(async () => {
      await bus?.close();
      await cleanup?.();
    });

    it('delivers bytes and JSON with id, content type and properties; complete removes the message', async () => {
      const bytes = new Uint8Array([0xff, 0x00, 0x10, 0x80, 0x7b]);
      await bus.send('plain', {
        body: bytes, messageId: 'm-bytes', contentType: 'application/octet-stream',
        applicationProperties: { tenant: 't1', attempt: 3, urgent: true },
      });
      await bus.send('plain', { body: { hello: 'world', n: [1, 2] }, messageId: 'm-json' });
      const receiver = await bus.openReceiver('plain');
      const got = await receiveExactly(receiver, 2);
      expect(got.map((m) => m.messageId)).toEqual(['m-bytes', 'm-json']);
      expect([...got[0]!.body]).toEqual([...bytes]);
      expect(got[0]!.contentType).toBe('application/octet-stream');
      expect(got[0]!.applicationProperties).toMatchObject({ tenant: 't1', attempt: 3, urgent: true });
      expect(got[0]!.deliveryCount).toBe(0);
      expect(got[1]!.contentType).toBe('application/json');
      expect(busJson(got[1]!)).toEqual({ hello: 'world', n: [1, 2] });
      expect(got[1]!.sequenceNumber).toBeGreaterThan(got[0]!.sequenceNumber);
      expect(got[0]!.lockedUntilMs).toBeGreaterThan(Date.now());
      for (const m of got) await receiver.complete(m);
      expect(await receiver.receive(5, { maxWaitMs: 300 })).toEqual([]);
      expect(await settledCode(receiver.complete(got[0]!))).toBe('BUS_LOCK_LOST');
      await receiver.close();
    });

    it('sends several messages as one batch, received in order', async () => {
      await bus.send('batch', [1, 2, 3].map((i) => ({ body: `b${i}`, messageId: `batch-${i}` })));
      const receiver = await bus.openReceiver('batch');
      const got = await receiveExactly(receiver, 3);
      expect(got.map((m) => busJson(m))).toEqual(['b1', 'b2', 'b3']);
      for (const m of got) await receiver.complete(m);
      await receiver.close();
    });

    it('abandon makes the message available again with deliveryCount + 1', async () => {
      await bus.send('abandon', { body: 'again', messageId: 'ab-1' });
      const receiver = await bus.openReceiver('abandon');
      const [first] = await receiveExactly(receiver, 1);
      expect(first!.deliveryCount).toBe(0);
      await receiver.abandon(first!);
      const [second] = await receiveExactly(receiver, 1);
      expect(second!.messageId).toBe('ab-1');
      expect(second!.deliveryCount).toBe(1);
      expect(second!.lockToken).not.toBe(first!.lockToken);
      await receiver.complete(second!);
      await receiver.close();
    });

    it('dead-letters with reason and description, readable on the dead-letter queue', async () => {
      await bus.send('dead', { body: 'poison', messageId: 'dl-1' });
      const receiver = await bus.openReceiver('dead');
      const [m] = await receiveExactly(receiver, 1);
      await receiver.deadLetter(m!, { reason: 'SchemaInvalid', description: 'field x missing' });
      expect(await receiver.receive(1, { maxWaitMs: 300 })).toEqual([]);
      const dlq = await bus.openReceiver('dead', { deadLetter: true });
      const [dead] = await receiveExactly(dlq, 1);
      expect(dead!.messageId).toBe('dl-1');
      expect(text(dead!)).toBe('"poison"');
      expect(dead!.deadLetterReason).toBe('SchemaInvalid');
      expect(dead!.deadLetterDescription).toBe('field x missing');
      // The dead-letter queue is the end of the line: dead-lettering again is refused and the message stays
      // (locked until its lock expires, then delivered again).
      expect(await settledCode(dlq.deadLetter(dead!, { reason: 'Again' }))).toBe('BUS_UNAVAILABLE');
      const [kept] = await receiveExactly(dlq, 1, SHORT_LOCK_MS + 5000);
      expect(kept!.messageId).toBe('dl-1');
      expect(kept!.deliveryCount).toBe(dead!.deliveryCount + 1);
      await dlq.complete(kept!);
      await Promise.all([receiver.close(), dlq.close()]);
    });

    it('moves a message past maxDeliveryCount to the dead-letter queue (MaxDeliveryCountExceeded)', async () => {
      await bus.send('retry', { body: 'flaky', messageId: 'retry-1' });
      const receiver = await bus.openReceiver('retry');
      for (let i = 0; i < 2; i++) {
        const [m] = await receiveExactly(receiver, 1);
        expect(m!.deliveryCount).toBe(i);
        await receiver.abandon(m!);
      }
      expect(await receiver.receive(1, { maxWaitMs: 300 })).toEqual([]);
      const dlq = await bus.openReceiver('retry', { deadLetter: true });
      const [dead] = await receiveExactly(dlq, 1);
      expect(dead!.messageId).toBe('retry-1');
      expect(dead!.deadLetterReason).toBe('MaxDeliveryCountExceeded');
      await dlq.complete(dead!);
      await Promise.all([receiver.close(), dlq.close()]);
    });

    it('drops a second send with the same message id (duplicate detection)', async () => {
      const id = `dup-${randomUUID()}`;
      await bus.send('dups', { body: 'first', messageId: id });
      await bus.send('dups', { body: 'second', messageId: id });
      await bus.send('dups', [{ body: 'third', messageId: id }, { body: 'other', messageId: `${id}-b` }]);
      const receiver = await bus.openReceiver('dups');
      const got = await receiveExactly(receiver, 2);
      expect(got.map(text)).toEqual(['"first"', '"other"']);
      expect(await receiver.receive(1, { maxWaitMs: 300 })).toEqual([]);
      for (const m of got) await receiver.complete(m);
      await receiver.close();
    });

    it('refuses an unknown queue with BUS_QUEUE_NOT_FOUND and an oversized message with BUS_MESSAGE_TOO_LARGE', async () => {
      expect(await settledCode(bus.send('no-such-queue', { body: 'x' }))).toBe('BUS_QUEUE_NOT_FOUND');
      expect(await settledCode(bus.send('plain', { body: new Uint8Array(2 * 1024 * 1024) }))).toBe('BUS_MESSAGE_TOO_LARGE');
    });

    it('renews a message lock, and enforces lock expiry (redelivery with deliveryCount + 1, settle fails)', async () => {
      await bus.send('short-lock', { body: 'slow', messageId: 'lock-1' });
      const receiver = await bus.openReceiver('short-lock');
      const [m] = await receiveExactly(receiver, 1);
      await sleep(SHORT_LOCK_MS / 2);
      const renewedUntil = await receiver.renewLock(m!);
      expect(renewedUntil).toBeGreaterThan(m!.lockedUntilMs);
      await sleep(SHORT_LOCK_MS * 0.6); // just past the original lock, well inside the renewed one
      await receiver.complete(m!);

      await bus.send('short-lock', { body: 'stalled', messageId: 'lock-2' });
      const [stalled] = await receiveExactly(receiver, 1);
      await sleep(SHORT_LOCK_MS + 400);
      expect(await settledCode(receiver.complete(stalled!))).toBe('BUS_LOCK_LOST');
      const [again] = await receiveExactly(receiver, 1);
      expect(again!.messageId).toBe('lock-2');
      expect(again!.deliveryCount).toBe(1);
      await receiver.complete(again!);
      await receiver.close();
    });

    it('delivers a session in order to one receiver at a time (BUS_SESSION_LOCKED for a second)', async () => {
      await bus.send('orders', [
        { body: 'a1', sessionId: 'A' }, { body: 'b1', sessionId: 'B' }, { body: 'a2', sessionId: 'A' },
      ]);
      await bus.send('orders', { body: 'a3', sessionId: 'A' });
      const first = await bus.acceptSession('orders', 'A');
      expect(first.sessionId).toBe('A');
      expect(first.lockedUntilMs).toBeGreaterThan(Date.now());
      const got = await receiveExactly(first, 3);
      expect(got.map((m) => busJson(m))).toEqual(['a1', 'a2', 'a3']);
      expect(got.every((m) => m.sessionId === 'A')).toBe(true);
      expect(await settledCode(bus.acceptSession('orders', 'A'))).toBe('BUS_SESSION_LOCKED');
      await first.complete(got[0]!);
      await first.close();
      // Closing released the session and the two unsettled messages, still in order.
      const second = await bus.acceptSession('orders', 'A');
      const rest = await receiveExactly(second, 2);
      expect(rest.map((m) => busJson(m))).toEqual(['a2', 'a3']);
      expect(rest.map((m) => m.deliveryCount)).toEqual([1, 1]);
      for (const m of rest) await second.complete(m);
      await second.close();
      const b = await bus.acceptSession('orders', 'B');
      const [b1] = await receiveExactly(b, 1);
      await b.complete(b1!);
      await b.close();
    });

    it('acceptNextSession locks a session with messages, and gives undefined when none is free', async () => {
      await bus.send('next', { body: 'x1', sessionId: 'X' });
      const receiver = await bus.acceptNextSession('next');
      expect(receiver?.sessionId).toBe('X');
      const started = Date.now();
      expect(await bus.acceptNextSession('next')).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(SESSION_WAIT_MS * 4);
      const [m] = await receiveExactly(receiver!, 1);
      await receiver!.complete(m!);
      await receiver!.close();
    });

    it('renews a session lock, and enforces session lock expiry', async () => {
      await bus.send('short-session', [{ body: 's1', sessionId: 'S' }, { body: 's2', sessionId: 'S' }]);
      const receiver = await bus.acceptSession('short-session', 'S');
      const [m] = await receiveExactly(receiver, 1);
      await sleep(SHORT_LOCK_MS / 2);
      const renewedUntil = await receiver.renewLock();
      expect(renewedUntil).toBeGreaterThan(m!.lockedUntilMs);
      expect(receiver.lockedUntilMs).toBe(renewedUntil);
      await sleep(SHORT_LOCK_MS * 0.6);
      await receiver.complete(m!);

      const [stalled] = await receiveExactly(receiver, 1);
      await sleep(SHORT_LOCK_MS + 400);
      expect(await settledCode(receiver.complete(stalled!))).toBe('BUS_LOCK_LOST');
      expect(await settledCode(receiver.renewLock())).toBe('BUS_LOCK_LOST');
      await receiver.close();
      const next = await bus.acceptSession('short-session', 'S');
      const [again] = await receiveExactly(next, 1);
      expect(busJson(again!)).toBe('s2');
      expect(again!.deliveryCount).toBe(1);
      await next.complete(again!);
      await next.close();
    });

    it('reports healthy while up', async () => {
      await expect(bus.health.check(AbortSignal.timeout(5000))).resolves.toBeUndefined();
    });
  });
}
