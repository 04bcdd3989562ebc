// Time enters core only through this port, so windows and expiry are testable with a fake clock.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
