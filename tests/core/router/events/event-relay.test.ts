// The relay between the broker and the agent, over a scripted receiver: nothing is completed before the agent's ack;
// a nack, a silent agent or a shutdown gives the event back; a message that is not this sandbox's event is
// dead-lettered, never handed out; logs carry ids, never the payload.
import { describe, expect, it } from 'vitest';
import { KarsError } from '../../../../core/errors';
import type { ReceivedBusMessage } from '../../../../core/ports/bus.port';
import type { EventReceiver } from '../../../../core/ports/event-receiver.port';
import { createEventRelay } from '../../../../core/router/events/event-relay';
import { captureEvents } from '../../../support/log-sink';

const PAYLOAD_MARKER = 'payload-text-never-logged';

function edgeMessage(n: number, over: Record<string, unknown> = {}, sessionId = 'sb-a'): ReceivedBusMessage {
  const body = {
    v: 1, tenantId: 't1', sandboxId: 'sb-a', agentId: 'agent', hookId: 'h1', channel: 'github', eventType: 'push',
    deliveryId: `d${n}`, receiptId: `c:${n}:0`, receivedAtMs: 1000, payload: { text: PAYLOAD_MARKER }, ...over,
  };
  return {
    messageId: `m${n}`, sessionId, contentType: 'application/json', body: new TextEncoder().encode(JSON.stringify(body)),
    applicationProperties: {}, deliveryCount: 0, sequenceNumber: n, enqueuedAtMs: 0, lockToken: `lock-${n}`, lockedUntilMs: 30_000,
    deadLetterReason: undefined, deadLetterDescription: undefined,
  };
}

function scripted() {
  const queue: ReceivedBusMessage[] = [];
  const calls: string[] = [];
  let failNext: KarsError | undefined;
  let lockUntil = 60_000;
  const step = (verb: string) => async (m: ReceivedBusMessage): Promise<void> => {
    calls.push(`${verb} ${m.messageId}`);
    if (failNext) {
      const e = failNext;
      failNext = undefined;
      throw e;
    }
  };
  const receiver: EventReceiver = {
    async receive(max, options) {
      calls.push(`receive ${max} ${options.maxWaitMs}`);
      return queue.splice(0, max);
    },
    complete: step('complete'),
    abandon: step('abandon'),
    deadLetter: async (m, reason) => {
      calls.push(`deadLetter ${m.messageId} ${reason}`);
    },
    async renewLock(m) {
      calls.push(`renew ${m.messageId}`);
      return lockUntil;
    },
    async close() {
      calls.push('close');
    },
  };
  return {
    receiver, queue, calls,
    failWith: (e: KarsError) => (failNext = e),
    setLockUntil: (ms: number) => (lockUntil = ms),
  };
}

function setup(maxInFlight = 4) {
  const s = scripted();
  let now = 0;
  let n = 0;
  const logs = captureEvents('relay');
  const relay = createEventRelay(
    { sandboxId: 'sb-a', sessionId: 'sb-a', maxInFlight, ackWindowMs: 60_000 },
    { receiver: s.receiver, clock: { nowMs: () => now }, logger: logs.logger, newLeaseId: () => `lease-${++n}` },
  );
  return { ...s, relay, logs, advance: (ms: number) => (now += ms) };
}

describe('createEventRelay', () => {
  it('leases received events to the agent and completes one only on its ack', async () => {
    const t = setup();
    t.queue.push(edgeMessage(1), edgeMessage(2));
    const polled = await t.relay.poll({ max: 10, waitMs: 5000 });
    expect(polled).toMatchObject({ ok: true, value: [
      { id: 'lease-1', deliveryCount: 0, ackByMs: 60_000, event: { deliveryId: 'd1', payload: { text: PAYLOAD_MARKER } } },
      { id: 'lease-2', event: { deliveryId: 'd2' } },
    ] });
    expect(t.calls).toEqual(['receive 4 5000']); // bounded by the free leases, not the agent's max
    expect(await t.relay.ack('lease-1')).toEqual({ ok: true, value: undefined });
    expect(await t.relay.ack('lease-1')).toMatchObject({ ok: false, code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
    expect(await t.relay.nack('lease-2')).toEqual({ ok: true, value: undefined });
    expect(t.calls.slice(1)).toEqual(['complete m1', 'abandon m2']);
    expect(t.relay.inFlight).toBe(0);
    expect(JSON.stringify(t.logs.events)).not.toContain(PAYLOAD_MARKER);
    expect(t.logs.events.map((e) => e.event)).toEqual(['router.event_leased', 'router.event_leased', 'router.event_acked', 'router.event_nacked']);
  });

  it('gives an unacked event back at its deadline and renews its lock while it waits', async () => {
    const t = setup();
    t.queue.push(edgeMessage(1));
    await t.relay.poll({ max: 1, waitMs: 0 });
    t.advance(19_000);
    await t.relay.tick();
    expect(t.calls).toEqual(['receive 1 0']);
    t.advance(2000); // a third of the 30 s lock left
    await t.relay.tick();
    expect(t.calls.at(-1)).toBe('renew m1');
    t.advance(39_000); // the 60 s ack window is over
    await t.relay.tick();
    expect(t.calls.at(-1)).toBe('abandon m1');
    expect(await t.relay.ack('lease-1')).toMatchObject({ ok: false, code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
  });

  it('answers ROUTER_EVENT_LOCK_LOST when the broker lost the lock, and lets a transient failure be retried', async () => {
    const t = setup();
    t.queue.push(edgeMessage(1), edgeMessage(2));
    await t.relay.poll({ max: 2, waitMs: 0 });
    t.failWith(new KarsError('BUS_LOCK_LOST', 'x'));
    expect(await t.relay.ack('lease-1')).toMatchObject({ ok: false, code: 'ROUTER_EVENT_LOCK_LOST' });
    expect(await t.relay.ack('lease-1')).toMatchObject({ ok: false, code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
    t.failWith(new KarsError('BUS_UNAVAILABLE', 'x'));
    expect(await t.relay.ack('lease-2')).toMatchObject({ ok: false, code: 'ROUTER_EVENTS_UNAVAILABLE' });
    expect(await t.relay.ack('lease-2')).toEqual({ ok: true, value: undefined });
  });

  it('dead-letters a message that is not this sandbox’s event and never hands it out', async () => {
    const t = setup();
    t.queue.push(edgeMessage(1, { sandboxId: 'sb-b' }), edgeMessage(2, { v: 2 }), edgeMessage(3));
    const polled = await t.relay.poll({ max: 3, waitMs: 0 });
    expect(polled.ok && polled.value.map((e) => e.event.deliveryId)).toEqual(['d3']);
    expect(t.calls).toContain('deadLetter m1 EventForOtherSandbox');
    expect(t.calls).toContain('deadLetter m2 EventBodyInvalid');
    expect(t.logs.events.filter((e) => e.event === 'router.event_refused').map((e) => e.level)).toEqual(['error', 'error']);
  });

  it('bounds the events in flight and serves one poll at a time', async () => {
    const t = setup(2);
    t.queue.push(edgeMessage(1), edgeMessage(2), edgeMessage(3));
    expect((await t.relay.poll({ max: 10, waitMs: 0 })).ok).toBe(true);
    expect(await t.relay.poll({ max: 10, waitMs: 0 })).toMatchObject({ ok: false, code: 'ROUTER_EVENTS_IN_FLIGHT_FULL' });
    await t.relay.ack('lease-1');
    let release: () => void = () => undefined;
    t.receiver.receive = async () => {
      await new Promise<void>((r) => (release = r));
      return [];
    };
    const waiting = t.relay.poll({ max: 10, waitMs: 1000 });
    expect(await t.relay.poll({ max: 10, waitMs: 0 })).toMatchObject({ ok: false, code: 'ROUTER_EVENTS_POLL_BUSY' });
    release();
    expect(await waiting).toEqual({ ok: true, value: [] });
  });

  it('maps a broker failure to ROUTER_EVENTS_UNAVAILABLE, and an abort to an empty answer', async () => {
    const t = setup();
    t.receiver.receive = async () => {
      throw new KarsError('BUS_UNAVAILABLE', 'amqp://host-detail');
    };
    const r = await t.relay.poll({ max: 1, waitMs: 0 });
    expect(r).toMatchObject({ ok: false, code: 'ROUTER_EVENTS_UNAVAILABLE' });
    expect(JSON.stringify(r)).not.toContain('host-detail');
    const gone = new AbortController();
    gone.abort();
    expect(await t.relay.poll({ max: 1, waitMs: 0, abortSignal: gone.signal })).toEqual({ ok: true, value: [] });
  });

  it('on close gives back every lease still held, then refuses polls', async () => {
    const t = setup();
    t.queue.push(edgeMessage(1), edgeMessage(2));
    await t.relay.poll({ max: 2, waitMs: 0 });
    await t.relay.ack('lease-2');
    await t.relay.close();
    expect(t.calls.slice(1)).toEqual(['complete m2', 'abandon m1', 'close']);
    expect(await t.relay.poll({ max: 1, waitMs: 0 })).toMatchObject({ ok: false, code: 'ROUTER_DRAINING' });
  });
});
