// The router's event receiver over the Bus port (here the memory bus, a fake clock): the session is accepted on first
// use and again after its lock was lost; a message received under the lost lock can no longer be settled (the broker
// delivers it again); a session entity and a sessionless one both work.
import { afterEach, describe, expect, it } from 'vitest';
import { createBusEventReceiver } from '../../../adapters/service-bus/bus-event-receiver';
import { createMemoryBus } from '../../../adapters/memory/memory-bus';
import type { Bus } from '../../../core/ports/bus.port';

const LOCK_MS = 60_000;
let now = Date.now();
const clock = { nowMs: () => now };
const buses: Bus[] = [];
afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
});

function bus(): Bus {
  const b = createMemoryBus({ queues: [{ name: 'ev', requiresSession: true, lockDurationMs: LOCK_MS }, { name: 'own', lockDurationMs: LOCK_MS }], clock });
  buses.push(b);
  return b;
}

describe('createBusEventReceiver', () => {
  it('re-accepts a lost session; settling under the lost lock is BUS_LOCK_LOST, the redelivery settles', async () => {
    const b = bus();
    await b.send('ev', [{ body: { n: 1 }, sessionId: 'S', messageId: 'm1' }, { body: { n: 9 }, sessionId: 'T', messageId: 'other' }]);
    const r = createBusEventReceiver(b, { queue: 'ev', sessionId: 'S' });
    const [first] = await r.receive(10, { maxWaitMs: 200 });
    expect(first).toMatchObject({ messageId: 'm1', deliveryCount: 0, sessionId: 'S' });
    now += LOCK_MS + 1; // the session lock ends unrenewed (no real time passed for the background renewal)
    const [again] = await r.receive(10, { maxWaitMs: 200 });
    expect(again).toMatchObject({ messageId: 'm1', deliveryCount: 1 });
    await expect(r.complete(first!)).rejects.toMatchObject({ code: 'BUS_LOCK_LOST' });
    await expect(r.renewLock(first!)).rejects.toMatchObject({ code: 'BUS_LOCK_LOST' });
    expect(await r.renewLock(again!)).toBeGreaterThan(now);
    await r.complete(again!);
    expect(await r.receive(10, { maxWaitMs: 100 })).toEqual([]); // session T is never this receiver's
    await r.close();
    await expect(r.receive(1, { maxWaitMs: 10 })).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
  });

  it('reads an entity without sessions, renewing each message lock', async () => {
    const b = bus();
    await b.send('own', { body: { n: 1 }, messageId: 'o1' });
    const r = createBusEventReceiver(b, { queue: 'own', sessionId: undefined });
    const [m] = await r.receive(1, { maxWaitMs: 200 });
    now += 1000;
    expect(await r.renewLock(m!)).toBe(now + LOCK_MS);
    await r.abandon(m!);
    const [back] = await r.receive(1, { maxWaitMs: 200 });
    expect(back!.deliveryCount).toBe(1);
    await r.deadLetter(back!, 'EventBodyInvalid');
    await expect(r.complete(back!)).rejects.toMatchObject({ code: 'BUS_LOCK_LOST' });
    await r.close();
  });
});
