// T2-D: a fixed number of requests in flight. Past it the router answers 503 at once instead of queueing: a queue
// would let a flooding agent hold sockets and memory, and every queued request would still have to be served.

export interface ConcurrencyGate {
  /** Takes a slot; false when all are taken (the caller answers ROUTER_OVERLOADED). */
  tryEnter(): boolean;
  /** Gives a slot back; call exactly once per successful `tryEnter`. */
  leave(): void;
  readonly inFlight: number;
}

/**
 * @param max slots, a positive integer
 * @param enforce false only with `_disable: ['concurrency-cap']` (slots are still counted, for draining)
 * @throws {RangeError} for a max that is not a positive integer
 */
export function createConcurrencyGate(max: number, enforce = true): ConcurrencyGate {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('"max" expected a positive integer');
  let inFlight = 0;
  return {
    tryEnter() {
      if (enforce && inFlight >= max) return false;
      inFlight++;
      return true;
    },
    leave() {
      if (inFlight > 0) inFlight--;
    },
    get inFlight() {
      return inFlight;
    },
  };
}
