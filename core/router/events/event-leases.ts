// The delivery state machine of inbound events between the broker and the agent. A received message is *leased* to
// the agent until its ack deadline; an ack or nack moves it to *settling* (the broker call in flight), after which it is
// gone (completed, or given back). A deadline that passes first *expires* the lease: the caller gives the message back
// to the broker (abandon: deliveryCount + 1, dead-lettered by the broker past its maxDeliveryCount). While a lease is
// held, the broker lock under it is renewed before it ends, so a slow agent is not mistaken for a dead one. Pure: time
// comes in as arguments; the broker calls are the caller's (event-relay.ts).
import { fail, ok, type Result } from '../../errors';

export type LeaseState = 'leased' | 'settling';

export interface EventLease<M> {
  readonly id: string;
  readonly message: M;
  readonly leasedAtMs: number;
  /** The agent must ack or nack before this; afterwards the message goes back to the broker. */
  readonly deadlineMs: number;
  /** End of the broker lock the message is held under (moves forward on renewal). */
  lockedUntilMs: number;
  /** Length of the lock as first granted: renewal starts when a third of it is left. */
  readonly lockSpanMs: number;
  state: LeaseState;
}

export interface EventLeases<M> {
  readonly inFlight: number;
  /** Leases that may still be handed out (maxInFlight − held). */
  readonly free: number;
  /** @throws RangeError when no lease is free or the id is taken (callers check `free` and make unique ids) */
  lease(id: string, message: M, lockedUntilMs: number, nowMs: number): EventLease<M>;
  /**
   * Starts an ack or nack. Only a lease still held, before its deadline, may be settled.
   * @returns ROUTER_EVENT_LEASE_UNKNOWN (never handed out, settled, or expired) | ROUTER_EVENT_SETTLING (already in progress)
   */
  beginSettle(id: string, nowMs: number): Result<EventLease<M>>;
  /** Ends a settlement: `done` forgets the lease; `retry` (a transient broker failure) holds it again. */
  endSettle(id: string, outcome: 'done' | 'retry'): void;
  /** Removes and returns the leases whose deadline has passed (not those settling): the caller abandons them. */
  expireDue(nowMs: number): Array<EventLease<M>>;
  /** Leases whose lock ends within a third of its span while their deadline lies beyond it: the caller renews them. */
  renewDue(nowMs: number): Array<EventLease<M>>;
  renewed(id: string, lockedUntilMs: number): void;
  /** Removes a lease whose lock is gone (the broker delivers the message again). */
  drop(id: string): void;
  /** Removes and returns every lease not settling (shutdown: the caller gives them back). */
  takeAll(): Array<EventLease<M>>;
}

/**
 * @param maxInFlight most leases held at once (a positive integer)
 * @param ackWindowMs how long the agent has to ack (a positive integer)
 * @throws RangeError for a bound that is not a positive integer
 */
export function createEventLeases<M>(maxInFlight: number, ackWindowMs: number): EventLeases<M> {
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('"maxInFlight" expected a positive integer');
  if (!Number.isSafeInteger(ackWindowMs) || ackWindowMs < 1) throw new RangeError('"ackWindowMs" expected a positive integer');
  const leases = new Map<string, EventLease<M>>();
  const unknown = (): Result<EventLease<M>> =>
    fail('ROUTER_EVENT_LEASE_UNKNOWN', 'no such event lease: never handed out, already settled, or expired (an expired event is delivered again)');

  return {
    get inFlight() {
      return leases.size;
    },
    get free() {
      return maxInFlight - leases.size;
    },
    lease(id, message, lockedUntilMs, nowMs) {
      if (leases.size >= maxInFlight) throw new RangeError('no event lease is free');
      if (leases.has(id)) throw new RangeError('event lease id already in use');
      const lease: EventLease<M> = {
        id, message, leasedAtMs: nowMs, deadlineMs: nowMs + ackWindowMs, lockedUntilMs,
        lockSpanMs: Math.max(0, lockedUntilMs - nowMs), state: 'leased',
      };
      leases.set(id, lease);
      return lease;
    },
    beginSettle(id, nowMs) {
      const lease = leases.get(id);
      if (!lease) return unknown();
      if (lease.state === 'settling') return fail('ROUTER_EVENT_SETTLING', 'an ack or nack of this event is already in progress');
      // Past the deadline the message is the broker's again (or about to be): a late ack must not complete it.
      if (nowMs >= lease.deadlineMs) return unknown();
      lease.state = 'settling';
      return ok(lease);
    },
    endSettle(id, outcome) {
      const lease = leases.get(id);
      if (!lease || lease.state !== 'settling') return;
      if (outcome === 'done') leases.delete(id);
      else lease.state = 'leased';
    },
    expireDue(nowMs) {
      const out: Array<EventLease<M>> = [];
      for (const lease of leases.values()) {
        if (lease.state === 'leased' && nowMs >= lease.deadlineMs) out.push(lease);
      }
      for (const lease of out) leases.delete(lease.id);
      return out;
    },
    renewDue(nowMs) {
      const out: Array<EventLease<M>> = [];
      for (const lease of leases.values()) {
        if (lease.state !== 'leased' || lease.deadlineMs <= lease.lockedUntilMs) continue;
        if (lease.lockedUntilMs - nowMs <= lease.lockSpanMs / 3) out.push(lease);
      }
      return out;
    },
    renewed(id, lockedUntilMs) {
      const lease = leases.get(id);
      if (lease && lockedUntilMs > lease.lockedUntilMs) lease.lockedUntilMs = lockedUntilMs;
    },
    drop(id) {
      leases.delete(id);
    },
    takeAll() {
      const out = [...leases.values()].filter((l) => l.state === 'leased');
      for (const lease of out) leases.delete(lease.id);
      return out;
    },
  };
}
