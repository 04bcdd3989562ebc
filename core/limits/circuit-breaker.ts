// Circuit breaker as a pure state machine with explicit time (T2-D per tool host, T3-D per model deployment):
// closed → open after `failureThreshold` failures within `windowMs`; open refuses until `openMs` passed; then
// half-open admits at most `halfOpenProbes` probes at a time; a probe's success closes it, its failure reopens it.
// Outcomes of calls admitted before the breaker opened are ignored once it is open: only probes decide recovery.
import { anumber } from '../crypto/assert';

export interface CircuitBreakerConfig {
  /** Failures within `windowMs` that open the breaker. Positive integer. */
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** How long an open breaker refuses before it lets a probe through. */
  readonly openMs: number;
  /** Concurrent probes admitted while half-open. Positive integer (1 is usual). */
  readonly halfOpenProbes: number;
  /** A probe that never reports back is forgotten after this long, so a lost probe cannot wedge the breaker. */
  readonly probeTimeoutMs: number;
}

export type CircuitState =
  /** `failures`: times of recent failures, oldest first, fewer than the threshold. */
  | { readonly phase: 'closed'; readonly failures: readonly number[] }
  | { readonly phase: 'open'; readonly untilMs: number }
  /** `probes`: start times of probes in flight. */
  | { readonly phase: 'half-open'; readonly probes: readonly number[] };

export type Admission =
  | { readonly allowed: true; readonly state: CircuitState; readonly probe: boolean }
  | { readonly allowed: false; readonly state: CircuitState; readonly retryAfterMs: number };

export const CLOSED: CircuitState = { phase: 'closed', failures: [] };

/** @throws {TypeError|RangeError} when a field is not a non-negative integer, or a count is 0 */
export function assertBreakerConfig(config: CircuitBreakerConfig): CircuitBreakerConfig {
  for (const f of ['failureThreshold', 'windowMs', 'openMs', 'halfOpenProbes', 'probeTimeoutMs'] as const) anumber(config[f], f);
  if (config.failureThreshold === 0) throw new RangeError('"failureThreshold" expected positive integer, got 0');
  if (config.halfOpenProbes === 0) throw new RangeError('"halfOpenProbes" expected positive integer, got 0');
  return config;
}

/**
 * May a call go ahead at `nowMs`? An open breaker whose time is up turns half-open here.
 * @returns allowed (with `probe` set for a half-open probe, which must report its outcome with `probe: true`) or
 *   refused with the wait until the next probe could pass
 */
export function admitCall(state: CircuitState, nowMs: number, config: CircuitBreakerConfig): Admission {
  let s = state;
  if (s.phase === 'open') {
    if (nowMs < s.untilMs) return { allowed: false, state: s, retryAfterMs: s.untilMs - nowMs };
    s = { phase: 'half-open', probes: [] };
  }
  if (s.phase === 'closed') return { allowed: true, state: s, probe: false };
  const live = s.probes.filter((t) => nowMs - t < config.probeTimeoutMs);
  if (live.length >= config.halfOpenProbes) {
    const oldest = Math.min(...live);
    return { allowed: false, state: { phase: 'half-open', probes: live }, retryAfterMs: Math.max(1, oldest + config.probeTimeoutMs - nowMs) };
  }
  return { allowed: true, state: { phase: 'half-open', probes: [...live, nowMs] }, probe: true };
}

/**
 * The state after a call admitted by {@link admitCall} finished.
 * @param ok whether the call succeeded (the caller decides what counts: connect ok, 2xx–4xx but 429 …)
 * @param probe the `probe` flag its admission carried
 */
export function recordOutcome(state: CircuitState, ok: boolean, probe: boolean, nowMs: number, config: CircuitBreakerConfig): CircuitState {
  switch (state.phase) {
    case 'open':
      return state;
    case 'half-open': {
      if (!probe) return state;
      if (!ok) return { phase: 'open', untilMs: nowMs + config.openMs };
      return CLOSED;
    }
    case 'closed': {
      if (ok) return state;
      const recent = state.failures.filter((t) => nowMs - t < config.windowMs);
      if (recent.length + 1 >= config.failureThreshold) return { phase: 'open', untilMs: nowMs + config.openMs };
      return { phase: 'closed', failures: [...recent, nowMs] };
    }
  }
}

/** Gives back a probe slot that was admitted but never used (the caller decided not to make the call after all). */
export function releaseProbe(state: CircuitState, probe: boolean): CircuitState {
  if (!probe || state.phase !== 'half-open' || state.probes.length === 0) return state;
  return { phase: 'half-open', probes: state.probes.slice(0, -1) };
}

/** True when the breaker would refuse a call at `nowMs` (for picking a healthy deployment without admitting). */
export function isOpenAt(state: CircuitState, nowMs: number, config: CircuitBreakerConfig): boolean {
  return !admitCall(state, nowMs, config).allowed;
}
