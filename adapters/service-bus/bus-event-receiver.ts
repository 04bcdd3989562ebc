// EventReceiver over the Bus port (Service Bus in Azure, the local AMQP broker locally): the router's own entity and,
// on a session-enabled entity, its own session (session = sandbox id, T1-E). The session is accepted on first use and
// again after it was lost; its lock is renewed in the background while held, so events leased to a slow agent keep
// their locks. Messages are settled on the receiver that received them: after a session was lost, their settlement
// fails with BUS_LOCK_LOST (the broker delivers them again).
import { KarsError, isKarsError } from '../../core/errors';
import type { Bus, BusQueueReceiver, BusSessionReceiver, ReceivedBusMessage } from '../../core/ports/bus.port';
import type { EventReceiver } from '../../core/ports/event-receiver.port';
import type { Logger } from '../../core/ports/logger.port';

export interface BusEventReceiverOptions {
  /** The entity (queue) holding this sandbox's events. */
  readonly queue: string;
  /** The session to hold (session-enabled entity); undefined: an entity of this sandbox alone, without sessions. */
  readonly sessionId: string | undefined;
  readonly logger?: Logger;
}

type Held = ({ kind: 'session'; r: BusSessionReceiver; spanMs: number; timer: NodeJS.Timeout | undefined } | { kind: 'queue'; r: BusQueueReceiver }) & {
  /** Set once the receiver was given up: its messages can no longer be settled through it. */
  lost: boolean;
};

export function createBusEventReceiver(bus: Bus, options: BusEventReceiverOptions): EventReceiver {
  const { queue, sessionId, logger } = options;
  let current: Promise<Held> | undefined;
  let live: Held | undefined;
  let closed = false;
  // Which receiver holds each message (settlement must go through it).
  const owner = new WeakMap<ReceivedBusMessage, Held>();

  const release = (held: Held, reason: string): void => {
    if (held.lost) return;
    held.lost = true;
    if (held.kind === 'session' && held.timer) clearTimeout(held.timer);
    if (live === held) {
      live = undefined;
      current = undefined;
    }
    logger?.warn('router.events_session_released', { queue, sessionId, reason });
    void held.r.close().catch(() => undefined);
  };

  const armRenewal = (held: Extract<Held, { kind: 'session' }>): void => {
    // Renew at half the remaining lock: two tries before it ends (an unknown lock end: once a second).
    const left = held.r.lockedUntilMs > 0 ? held.r.lockedUntilMs - Date.now() : 2000;
    const inMs = Math.max(100, left / 2);
    held.timer = setTimeout(() => {
      held.r.renewLock().then(
        () => {
          if (!closed && !held.lost) armRenewal(held);
        },
        (e: unknown) => release(held, isKarsError(e) ? e.code : 'INTERNAL'),
      );
    }, inMs);
    held.timer.unref();
  };

  const open = async (): Promise<Held> => {
    if (sessionId === undefined) {
      live = { kind: 'queue', r: await bus.openReceiver(queue), lost: false };
      return live;
    }
    const r = await bus.acceptSession(queue, sessionId);
    const held: Extract<Held, { kind: 'session' }> = { kind: 'session', r, spanMs: Math.max(0, r.lockedUntilMs - Date.now()), timer: undefined, lost: false };
    live = held;
    armRenewal(held);
    logger?.info('router.events_session_accepted', { queue, sessionId });
    return held;
  };

  const receiver = (): Promise<Held> => {
    if (closed) return Promise.reject(new KarsError('BUS_UNAVAILABLE', 'the event receiver is closed'));
    if (!current) {
      const p = open();
      current = p;
      // A failed accept (broker down, session still locked by a router that just died) is tried again next time.
      p.catch(() => {
        if (current === p) current = undefined;
      });
    }
    return current;
  };

  const heldBy = (message: ReceivedBusMessage, what: string): Held => {
    const held = owner.get(message);
    if (!held || held.lost) throw new KarsError('BUS_LOCK_LOST', `${what}: the message is not held by this receiver`);
    return held;
  };

  const settle = async (message: ReceivedBusMessage, what: string, op: (held: Held) => Promise<void>): Promise<void> => {
    const held = heldBy(message, what);
    try {
      await op(held);
    } finally {
      owner.delete(message);
    }
  };

  return {
    async receive(maxMessages, receiveOptions) {
      // One more try after a lost session lock: the new session holds the same (released) messages.
      for (let attempt = 0; ; attempt++) {
        const held = await receiver();
        try {
          const messages = await held.r.receive(maxMessages, receiveOptions);
          for (const m of messages) owner.set(m, held);
          return messages;
        } catch (e) {
          if (isKarsError(e) && (e.code === 'BUS_LOCK_LOST' || e.code === 'BUS_UNAVAILABLE')) release(held, e.code);
          if (attempt > 0 || !isKarsError(e) || e.code !== 'BUS_LOCK_LOST' || receiveOptions.abortSignal?.aborted) throw e;
        }
      }
    },
    complete: (message) => settle(message, 'complete event', (held) => held.r.complete(message)),
    abandon: (message) => settle(message, 'abandon event', (held) => held.r.abandon(message)),
    deadLetter: (message, reason) => settle(message, 'dead-letter event', (held) => held.r.deadLetter(message, { reason })),
    async renewLock(message) {
      const held = heldBy(message, 'renew event lock');
      if (held.kind === 'queue') return held.r.renewLock(message);
      // The background renewal usually got there first: only call the broker when less than half the span is left.
      if (held.r.lockedUntilMs - Date.now() > held.spanMs / 2) return held.r.lockedUntilMs;
      return held.r.renewLock();
    },
    async close() {
      closed = true;
      const held = await current?.catch(() => undefined);
      current = undefined;
      live = undefined;
      if (!held || held.lost) return;
      held.lost = true;
      if (held.kind === 'session' && held.timer) clearTimeout(held.timer);
      await held.r.close().catch(() => undefined);
    },
  };
}
