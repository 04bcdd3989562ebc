// Hands the sandbox's inbound events from the broker to its agent (at least once): a poll receives up to the free
// lease count, checks each message (edge-event.ts) and leases it to the agent; the agent's ack completes it on the
// broker, its nack or silence past the ack window gives it back (abandon), and the broker dead-letters it past its
// maxDeliveryCount. Nothing is completed before the agent acked, so a router that dies holding events loses none: the
// broker releases its locks and delivers them again. Logs carry ids only, never an event's payload.
import { fail, isKarsError, ok, type Result } from '../../errors';
import type { ReceivedBusMessage } from '../../ports/bus.port';
import type { Clock } from '../../ports/clock.port';
import type { EventReceiver } from '../../ports/event-receiver.port';
import type { Logger } from '../../ports/logger.port';
import { readEdgeEvent, type EdgeEvent } from './edge-event';
import { createEventLeases, type EventLease } from './event-leases';

export interface EventRelaySettings {
  readonly sandboxId: string;
  /** The session the receiver holds (undefined: an entity without sessions). */
  readonly sessionId: string | undefined;
  /** Most events leased to the agent and not yet acked. */
  readonly maxInFlight: number;
  /** How long the agent has to ack an event before it goes back to the broker. */
  readonly ackWindowMs: number;
}

export interface EventRelayDeps {
  readonly receiver: EventReceiver;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Unguessable, unique lease ids (the daemon passes crypto.randomUUID). */
  readonly newLeaseId: () => string;
}

/** One event as the agent receives it. */
export interface AgentEvent {
  /** The lease id to ack or nack. */
  readonly id: string;
  /** Earlier deliveries of this event (0 on the first); the same `event.deliveryId` comes again after a nack or expiry. */
  readonly deliveryCount: number;
  readonly ackByMs: number;
  readonly event: Omit<EdgeEvent, 'v'>;
}

export interface PollOptions {
  readonly max: number;
  readonly waitMs: number;
  readonly abortSignal?: AbortSignal;
}

export interface EventRelay {
  readonly inFlight: number;
  /**
   * @returns the events leased to the agent (possibly none), or ROUTER_EVENTS_POLL_BUSY (another poll is waiting) |
   *   ROUTER_EVENTS_IN_FLIGHT_FULL (ack first) | ROUTER_EVENTS_UNAVAILABLE (the broker failed) | ROUTER_DRAINING
   */
  poll(options: PollOptions): Promise<Result<AgentEvent[]>>;
  /** Completes the event on the broker. @returns ROUTER_EVENT_LEASE_UNKNOWN | ROUTER_EVENT_SETTLING | ROUTER_EVENT_LOCK_LOST | ROUTER_EVENTS_UNAVAILABLE */
  ack(id: string): Promise<Result<void>>;
  /** Gives the event back now (it comes again, deliveryCount + 1). Same failures as `ack`. */
  nack(id: string): Promise<Result<void>>;
  /** Gives back leases past their deadline and renews locks about to end; the daemon calls it on a timer. */
  tick(): Promise<void>;
  /** Wakes a waiting poll (it answers what it has); later polls answer ROUTER_DRAINING. */
  stopPolling(): void;
  /** Gives back every lease still held and closes the receiver. */
  close(): Promise<void>;
}

export function createEventRelay(settings: EventRelaySettings, deps: EventRelayDeps): EventRelay {
  const { receiver, clock, logger } = deps;
  const leases = createEventLeases<ReceivedBusMessage>(settings.maxInFlight, settings.ackWindowMs);
  const expected = { sandboxId: settings.sandboxId, sessionId: settings.sessionId };
  let polling = false;
  let stopped = false;
  const stopPoll = new AbortController();
  const stopPolling = (): void => {
    stopped = true;
    stopPoll.abort();
  };
  const ids = (m: ReceivedBusMessage) => ({ sandboxId: settings.sandboxId, messageId: m.messageId.slice(0, 128), count: m.deliveryCount });

  const giveBack = async (lease: EventLease<ReceivedBusMessage>, reason: string): Promise<void> => {
    try {
      await receiver.abandon(lease.message);
      logger.info('router.event_returned', { ...ids(lease.message), reason });
    } catch (e) {
      // A lost lock means the broker has taken the message back already; anything else: its lock runs out there.
      logger.warn('router.event_return_failed', { ...ids(lease.message), reason, code: isKarsError(e) ? e.code : 'INTERNAL' });
    }
  };

  const settle = async (id: string, verb: 'ack' | 'nack'): Promise<Result<void>> => {
    const begun = leases.beginSettle(id, clock.nowMs());
    if (!begun.ok) return begun;
    const lease = begun.value;
    try {
      if (verb === 'ack') await receiver.complete(lease.message);
      else await receiver.abandon(lease.message);
      leases.endSettle(id, 'done');
      logger.info(verb === 'ack' ? 'router.event_acked' : 'router.event_nacked', ids(lease.message));
      return ok(undefined);
    } catch (e) {
      const code = isKarsError(e) ? e.code : 'INTERNAL';
      if (code === 'BUS_LOCK_LOST') {
        leases.endSettle(id, 'done');
        logger.warn('router.event_lock_lost', { ...ids(lease.message), reason: verb });
        return fail('ROUTER_EVENT_LOCK_LOST', 'the broker lock on this event was lost; it will be delivered again');
      }
      leases.endSettle(id, 'retry');
      logger.warn('router.event_settle_failed', { ...ids(lease.message), reason: verb, code });
      return fail('ROUTER_EVENTS_UNAVAILABLE', 'the event broker could not be reached; retry the ack before its deadline');
    }
  };

  return {
    get inFlight() {
      return leases.inFlight;
    },

    async poll(options) {
      if (stopped) return fail('ROUTER_DRAINING', 'the router is shutting down');
      if (polling) return fail('ROUTER_EVENTS_POLL_BUSY', 'another poll for events is already waiting');
      const room = Math.min(options.max, leases.free);
      if (room < 1) return fail('ROUTER_EVENTS_IN_FLIGHT_FULL', 'too many events await an ack; ack or nack some first');
      polling = true;
      let received: ReceivedBusMessage[];
      try {
        const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, stopPoll.signal]) : stopPoll.signal;
        received = await receiver.receive(room, { maxWaitMs: options.waitMs, abortSignal: signal });
      } catch (e) {
        const code = isKarsError(e) ? e.code : 'INTERNAL';
        // An abort (agent gone, router stopping) is not a broker failure: the agent just gets nothing.
        if (options.abortSignal?.aborted || stopPoll.signal.aborted) return ok([]);
        logger.warn('router.events_receive_failed', { sandboxId: settings.sandboxId, code });
        return fail('ROUTER_EVENTS_UNAVAILABLE', 'the event broker could not be reached');
      } finally {
        polling = false;
      }
      const now = clock.nowMs();
      const out: AgentEvent[] = [];
      for (const message of received) {
        const read = readEdgeEvent(message, expected);
        if (!read.ok) {
          // Never handed out, never retried: it cannot become valid by waiting.
          logger.error('router.event_refused', { ...ids(message), reason: read.code });
          await receiver.deadLetter(message, read.code).catch((e: unknown) => {
            logger.warn('router.event_refuse_failed', { ...ids(message), code: isKarsError(e) ? e.code : 'INTERNAL' });
          });
          continue;
        }
        const lease = leases.lease(deps.newLeaseId(), message, message.lockedUntilMs, now);
        const { v: _v, ...event } = read.value;
        out.push({ id: lease.id, deliveryCount: message.deliveryCount, ackByMs: lease.deadlineMs, event });
        logger.info('router.event_leased', { ...ids(message), deliveryId: event.deliveryId.slice(0, 128), hookId: event.hookId.slice(0, 128), channel: event.channel });
      }
      return ok(out);
    },

    ack: (id) => settle(id, 'ack'),
    nack: (id) => settle(id, 'nack'),

    async tick() {
      const now = clock.nowMs();
      for (const lease of leases.expireDue(now)) await giveBack(lease, 'ack_deadline');
      for (const lease of leases.renewDue(now)) {
        try {
          leases.renewed(lease.id, await receiver.renewLock(lease.message));
        } catch (e) {
          const code = isKarsError(e) ? e.code : 'INTERNAL';
          // The lock is gone: the broker delivers the event again, and this lease can no longer be acked.
          if (code === 'BUS_LOCK_LOST') leases.drop(lease.id);
          logger.warn('router.event_renew_failed', { ...ids(lease.message), code });
        }
      }
    },

    stopPolling,

    async close() {
      stopPolling();
      for (const lease of leases.takeAll()) await giveBack(lease, 'shutdown');
      await receiver.close().catch(() => undefined);
    },
  };
}
