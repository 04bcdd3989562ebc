// The in-memory Bus passes the Bus contract, and follows its clock for lock expiry and the duplicate window.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../adapters/memory/memory-bus';
import { isKarsError } from '../../../core/errors';
import { describeBusContract } from '../../contracts/bus.contract';

describeBusContract('memory', async (queues, sessionWaitMs) => ({
  bus: createMemoryBus({ queues, strictQueues: true, sessionWaitMs }),
}));

describe('memory bus with a manual clock', () => {
  const manualClock = () => {
    let now = 1_000_000;
    return { nowMs: () => now, advance: (ms: number) => void (now += ms) };
  };

  it('expires a message lock when the clock passes it, not before', async () => {
    const clock = manualClock();
    const bus = createMemoryBus({ queues: [{ name: 'q', lockDurationMs: 30_000 }], clock });
    await bus.send('q', { body: 'x', messageId: 'm' });
    const receiver = await bus.openReceiver('q');
    const [m] = await receiver.receive(1, { maxWaitMs: 10 });
    expect(m!.lockedUntilMs).toBe(1_000_000 + 30_000);
    clock.advance(29_999);
    expect(await receiver.receive(1, { maxWaitMs: 10 })).toEqual([]);
    clock.advance(1);
    const err = await receiver.complete(m!).catch((e: unknown) => e);
    expect(isKarsError(err) && err.code).toBe('BUS_LOCK_LOST');
    const [again] = await receiver.receive(1, { maxWaitMs: 10 });
    expect(again!.deliveryCount).toBe(1);
  });

  it('forgets a message id once the duplicate-detection window has passed', async () => {
    const clock = manualClock();
    const bus = createMemoryBus({ queues: [{ name: 'q', duplicateDetectionWindowMs: 60_000 }], clock });
    const receiver = await bus.openReceiver('q');
    await bus.send('q', { body: 1, messageId: 'same' });
    clock.advance(59_999);
    await bus.send('q', { body: 2, messageId: 'same' });
    clock.advance(1);
    await bus.send('q', { body: 3, messageId: 'same' });
    const got = await receiver.receive(10, { maxWaitMs: 10 });
    expect(got.map((m) => new TextDecoder().decode(m.body))).toEqual(['1', '3']);
  });

  it('refuses to work after close', async () => {
    const bus = createMemoryBus();
    await bus.close();
    const err = await bus.send('q', { body: 1 }).catch((e: unknown) => e);
    expect(isKarsError(err) && err.code).toBe('BUS_UNAVAILABLE');
    await expect(bus.health.check(new AbortController().signal)).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
  });
});
