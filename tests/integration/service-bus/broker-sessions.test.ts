// Local Service Bus broker driven by the real @azure/service-bus SDK: sessions in order, one receiver per session
// (SessionCannotBeLocked), accept-next waiting for a session, session lock renewal and enforced expiry, state.
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceBusBroker, type ServiceBusBrokerHandle } from '../../../infra/local/servicebus/start-broker';
import { errorCode, noRenew, receiveAll, sleep } from './sdk-helpers';

// Queue mechanics, not authorization (T1-E's broker checks are in tests/threats/T1-E-sandbox-broker-isolation.test.ts).
const DEV_ALLOW_ALL = 'dev-allow-all' as const;

const LOCK_MS = 1000;
let broker: ServiceBusBrokerHandle;
let client: ServiceBusClient;
/** acceptNextSession long-polls for the client's operation timeout; this client waits 1.5 s. */
let shortWaitClient: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusBroker({ authorization: DEV_ALLOW_ALL,
    strictQueues: true,
    queues: [
      { name: 'ordered', requiresSession: true },
      { name: 'next', requiresSession: true },
      { name: 'empty', requiresSession: true },
      { name: 'state', requiresSession: true },
      { name: 'expiry', requiresSession: true, lockDurationMs: LOCK_MS },
      { name: 'rad', requiresSession: true },
      { name: 'capped', requiresSession: true, lockDurationMs: LOCK_MS, maxDeliveryCount: 3 },
    ],
  });
  client = new ServiceBusClient(broker.connectionString, { retryOptions: { timeoutInMs: 5000, maxRetries: 1 } });
  shortWaitClient = new ServiceBusClient(broker.connectionString, { retryOptions: { timeoutInMs: 1500, maxRetries: 0 } });
});

afterAll(async () => {
  await Promise.all([client?.close(), shortWaitClient?.close()]);
  await broker?.stop();
});

describe('local Service Bus broker: sessions (real SDK)', () => {
  it('keeps each session in order across interleaved sends, and locks a session to one receiver', async () => {
    const sender = client.createSender('ordered');
    for (let i = 1; i <= 5; i++) {
      await sender.sendMessages([{ body: `a${i}`, sessionId: 'A' }, { body: `b${i}`, sessionId: 'B' }]);
    }
    const a = await client.acceptSession('ordered', 'A', noRenew);
    expect(await errorCode(client.acceptSession('ordered', 'A', noRenew))).toBe('SessionCannotBeLocked');
    // Another connection is refused the same way.
    const other = new ServiceBusClient(broker.connectionString);
    expect(await errorCode(other.acceptSession('ordered', 'A', noRenew))).toBe('SessionCannotBeLocked');
    await other.close();
    const b = await client.acceptSession('ordered', 'B', noRenew);
    const [gotA, gotB] = await Promise.all([receiveAll(a, 5), receiveAll(b, 5)]);
    expect(gotA.map((m) => m.body)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(gotB.map((m) => m.body)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
    // A session's messages are locked with the session.
    expect(gotA[0]!.lockedUntilUtc!.getTime()).toBe(a.sessionLockedUntilUtc!.getTime());
    // Abandon puts a message back at its place: it comes next, before later ones.
    for (const m of gotA.slice(2)) await a.completeMessage(m);
    await a.abandonMessage(gotA[1]!);
    await a.completeMessage(gotA[0]!);
    const [redelivered] = await receiveAll(a, 1);
    expect(redelivered!.body).toBe('a2');
    expect(redelivered!.deliveryCount).toBe(1);
    await a.completeMessage(redelivered!);
    for (const m of gotB) await b.completeMessage(m);
    await Promise.all([a.close(), b.close(), sender.close()]);
    const again = await client.acceptSession('ordered', 'A', noRenew);
    expect(await again.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    await again.close();
  });

  it('acceptNextSession waits for a session with messages and hands distinct sessions to concurrent receivers', async () => {
    const started = Date.now();
    const waiting = client.acceptNextSession('next', noRenew);
    await sleep(300);
    const sender = client.createSender('next');
    await sender.sendMessages({ body: 'late', sessionId: 'late' });
    const first = await waiting;
    expect(first.sessionId).toBe('late');
    expect(Date.now() - started).toBeLessThan(3000);
    await sender.sendMessages([{ body: 'x', sessionId: 'X' }, { body: 'y', sessionId: 'Y' }]);
    const [r1, r2] = await Promise.all([client.acceptNextSession('next', noRenew), client.acceptNextSession('next', noRenew)]);
    expect([r1.sessionId, r2.sessionId].sort()).toEqual(['X', 'Y']);
    for (const r of [first, r1, r2]) {
      const [m] = await receiveAll(r, 1);
      expect(m!.sessionId).toBe(r.sessionId);
      await r.completeMessage(m!);
      await r.close();
    }
    await sender.close();
  });

  it('acceptNextSession on a queue without free sessions ends with ServiceTimeout after the client timeout', async () => {
    const started = Date.now();
    expect(await errorCode(shortWaitClient.acceptNextSession('empty', noRenew))).toBe('ServiceTimeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(1000);
    expect(elapsed).toBeLessThan(5000);
  });

  it('keeps session state (get/set-session-state) across receivers of the session', async () => {
    const r = await client.acceptSession('state', 'S', noRenew);
    expect(await r.getSessionState()).toBeNull();
    await r.setSessionState({ checkpoint: 7 });
    expect(await r.getSessionState()).toEqual({ checkpoint: 7 });
    await r.close();
    const again = await client.acceptSession('state', 'S', noRenew);
    expect(await again.getSessionState()).toEqual({ checkpoint: 7 });
    await again.setSessionState(null);
    await again.close();
  });

  it('renews the session lock, then enforces its expiry: receiver detached, SessionLockLost, messages released', async () => {
    const sender = client.createSender('expiry');
    await sender.sendMessages([{ body: 'e1', sessionId: 'E' }, { body: 'e2', sessionId: 'E' }]);
    const r = await client.acceptSession('expiry', 'E', noRenew);
    const firstUntil = r.sessionLockedUntilUtc!.getTime();
    const [m1] = await receiveAll(r, 1);
    await sleep(LOCK_MS * 0.6);
    const renewed = await r.renewSessionLock();
    expect(renewed.getTime()).toBeGreaterThan(firstUntil);
    await sleep(LOCK_MS * 0.6);
    await r.completeMessage(m1!);
    const [m2] = await receiveAll(r, 1);
    await sleep(LOCK_MS + 300);
    expect(await errorCode(r.completeMessage(m2!))).toBe('SessionLockLost');
    expect(await errorCode(r.renewSessionLock())).toBe('SessionLockLost');
    const next = await client.acceptSession('expiry', 'E', noRenew);
    const [again] = await receiveAll(next, 1);
    expect(again!.body).toBe('e2');
    expect(again!.deliveryCount).toBe(1);
    await next.completeMessage(again!);
    await Promise.all([r.close(), next.close(), sender.close()]);
  });

  it('counts every way a session message goes back (abandon, session closed, session lock expired) toward maxDeliveryCount', async () => {
    const sender = client.createSender('capped');
    await sender.sendMessages({ body: 'c1', sessionId: 'C', messageId: 'capped-1' });
    const r1 = await client.acceptSession('capped', 'C', noRenew);
    const [d1] = await receiveAll(r1, 1);
    expect(d1!.deliveryCount).toBe(0);
    await r1.abandonMessage(d1!);
    const [d2] = await receiveAll(r1, 1);
    expect(d2!.deliveryCount).toBe(1);
    await r1.close(); // the session is released with the message still locked
    const r2 = await client.acceptSession('capped', 'C', noRenew);
    const [d3] = await receiveAll(r2, 1);
    expect(d3!.deliveryCount).toBe(2);
    await sleep(LOCK_MS + 300); // the third lock ends unrenewed: that was the last delivery allowed
    const r3 = await client.acceptSession('capped', 'C', noRenew);
    expect(await r3.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const dlq = client.createReceiver('capped', { subQueueType: 'deadLetter' });
    const [dead] = await receiveAll(dlq, 1);
    expect(dead).toMatchObject({ body: 'c1', messageId: 'capped-1', sessionId: 'C', deadLetterReason: 'MaxDeliveryCountExceeded', deliveryCount: 3 });
    await dlq.completeMessage(dead!);
    await Promise.all([r2.close(), r3.close(), dlq.close(), sender.close()]);
  });

  it('receives a session in receiveAndDelete mode', async () => {
    await client.createSender('rad').sendMessages([{ body: 1, sessionId: 'R' }, { body: 2, sessionId: 'R' }]);
    const r = await client.acceptSession('rad', 'R', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAll(r, 2)).map((m) => m.body)).toEqual([1, 2]);
    await r.close();
    const again = await client.acceptSession('rad', 'R', { receiveMode: 'receiveAndDelete' });
    expect(await again.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    await again.close();
  });
});
