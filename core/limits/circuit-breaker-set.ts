// One circuit breaker per key (tool host:port for T2-D, upstream deployment for T3-D), in memory, with a bounded
// number of keys: an agent cannot grow the map by naming hosts (the allowlist bounds them anyway), and a closed
// breaker with no recent failure is the same as none.
import type { Clock } from '../ports/clock.port';
import { admitCall, assertBreakerConfig, CLOSED, recordOutcome, releaseProbe, type CircuitBreakerConfig, type CircuitState } from './circuit-breaker';

/** Tool hosts: 5 failures in 30 s open the breaker for 30 s; one probe at a time (connects are short). */
export const TOOL_BREAKER_DEFAULTS: CircuitBreakerConfig = {
  failureThreshold: 5, windowMs: 30_000, openMs: 30_000, halfOpenProbes: 1, probeTimeoutMs: 30_000,
};

export type BreakerTicket =
  | { readonly allowed: true; readonly key: string; readonly probe: boolean }
  | { readonly allowed: false; readonly key: string; readonly retryAfterMs: number };

export class CircuitBreakerSet {
  private readonly states = new Map<string, CircuitState>();
  private readonly config: CircuitBreakerConfig;

  constructor(private readonly clock: Clock, config: CircuitBreakerConfig = TOOL_BREAKER_DEFAULTS, private readonly maxKeys = 1024) {
    this.config = assertBreakerConfig(config);
  }

  /** Admits or refuses a call for `key`; an allowed ticket must be passed to {@link record} exactly once. */
  admit(key: string): BreakerTicket {
    const a = admitCall(this.states.get(key) ?? CLOSED, this.clock.nowMs(), this.config);
    this.store(key, a.state);
    return a.allowed ? { allowed: true, key, probe: a.probe } : { allowed: false, key, retryAfterMs: a.retryAfterMs };
  }

  record(ticket: BreakerTicket, ok: boolean): void {
    if (!ticket.allowed) return;
    const s = this.states.get(ticket.key) ?? CLOSED;
    this.store(ticket.key, recordOutcome(s, ok, ticket.probe, this.clock.nowMs(), this.config));
  }

  /** Returns an allowed ticket whose call was never made: no outcome is recorded, a probe slot is freed. */
  release(ticket: BreakerTicket): void {
    if (!ticket.allowed) return;
    const s = this.states.get(ticket.key);
    if (s) this.store(ticket.key, releaseProbe(s, ticket.probe));
  }

  /** Current state, for health reports and tests. */
  stateOf(key: string): CircuitState {
    return this.states.get(key) ?? CLOSED;
  }

  private store(key: string, s: CircuitState): void {
    if (s.phase === 'closed' && s.failures.length === 0) { this.states.delete(key); return; }
    if (!this.states.has(key) && this.states.size >= this.maxKeys) {
      // Evict the oldest entry (Map keeps insertion order); an evicted breaker restarts closed, which errs open
      // only for a host the agent stopped calling long ago.
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
    this.states.set(key, s);
  }
}
