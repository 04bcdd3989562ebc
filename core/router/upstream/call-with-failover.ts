// One model call across the configured deployment list (T3-D): fail over along the list on 429/5xx or a failed
// connect, retry only idempotent calls, at most 3 attempts in all, backoff honouring Retry-After, and skip (or shed
// when all are) deployments whose health breaker is open. Never follows redirects: see redirect-policy.ts.
import type { BreakerTicket, CircuitBreakerSet } from '../../limits/circuit-breaker-set';
import type { Clock } from '../../ports/clock.port';
import type { Sleep } from '../../ports/sleep.port';
import {
  DEFAULT_BACKOFF_MS, DEFAULT_MAX_RETRY_AFTER_MS, MAX_UPSTREAM_ATTEMPTS, isFailoverStatus, isIdempotentCall,
  parseRetryAfterMs, type UpstreamCall,
} from './retry-policy';

/** How one attempt ended, as the model proxy saw it. */
export type AttemptOutcome =
  /** Response headers arrived (the body may still stream). */
  | { readonly kind: 'response'; readonly status: number; readonly header: (name: string) => string | undefined }
  /** Nothing was sent: DNS, refused, TLS handshake or pin failure. Safe to send elsewhere, whatever the call. */
  | { readonly kind: 'connect-error' }
  /** Failed after the request may have reached the upstream (reset, timeout): only idempotent calls go on. */
  | { readonly kind: 'error' };

export interface AttemptResult<R> {
  readonly outcome: AttemptOutcome;
  /** Whatever the proxy needs afterwards (the response to stream, or the error to map). */
  readonly value: R;
}

export const UPSTREAM_MITIGATIONS = ['retry-bound', 'idempotent-only', 'deployment-health'] as const;
export type UpstreamMitigation = (typeof UPSTREAM_MITIGATIONS)[number];

export interface FailoverOptions {
  /** ≤ {@link MAX_UPSTREAM_ATTEMPTS} (larger values are clamped). */
  readonly maxAttempts?: number;
  readonly backoffMs?: readonly number[];
  readonly maxRetryAfterMs?: number;
  readonly abortSignal?: AbortSignal;
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly UpstreamMitigation[];
}

export interface FailoverDeps {
  /** Breakers per deployment key, shared across calls (createDeploymentHealth). */
  readonly health: CircuitBreakerSet;
  readonly clock: Clock;
  readonly sleep: Sleep;
}

export type FailoverResult<R> =
  /** The last attempt's value (a 429/5xx response included: the proxy passes it on), and where it went. */
  | { readonly kind: 'done'; readonly value: R; readonly deployment: string; readonly attempts: number }
  /** No deployment admitted the call: answer 503 ROUTER_UPSTREAM_UNAVAILABLE with Retry-After. */
  | { readonly kind: 'unavailable'; readonly retryAfterMs: number; readonly attempts: number };

// Only with the retry bound switched off (tests): keeps a runaway loop finite.
const UNBOUNDED_SAFETY_CAP = 100;

/**
 * Runs `attempt` against deployments in configured order until one answers with a non-failover status, or the
 * attempts are used up. Before moving on from an attempt whose value is not returned, `discard(value)` is called
 * (the proxy drains or destroys that response).
 * @param deployments deployment keys in preference order (primary first); must not be empty
 */
export async function callWithFailover<R>(
  call: UpstreamCall,
  deployments: readonly string[],
  attempt: (deployment: string, attemptNo: number) => Promise<AttemptResult<R>>,
  deps: FailoverDeps,
  options: FailoverOptions & { discard?: (value: R) => void } = {},
): Promise<FailoverResult<R>> {
  if (deployments.length === 0) throw new RangeError('"deployments" expected at least one deployment');
  const off = (m: UpstreamMitigation) => options._disable?.includes(m) === true;
  const idempotent = isIdempotentCall(call) || off('idempotent-only');
  const maxAttempts = off('retry-bound') ? UNBOUNDED_SAFETY_CAP : Math.min(options.maxAttempts ?? MAX_UPSTREAM_ATTEMPTS, MAX_UPSTREAM_ATTEMPTS);
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const tried = new Set<string>();
  let last: { value: R; deployment: string } | undefined;
  let waitMs = 0;
  let retries = 0;

  for (let n = 0; n < maxAttempts; n += 1) {
    const pick = choose(deployments, tried, idempotent, deps.health, off('deployment-health'));
    if (!pick.ticket) {
      if (last) return { kind: 'done', value: last.value, deployment: last.deployment, attempts: n };
      return { kind: 'unavailable', retryAfterMs: pick.retryAfterMs, attempts: n };
    }
    const deployment = pick.deployment;
    // A fresh deployment is tried at once; only a retry of one already tried waits.
    if (n > 0 && tried.has(deployment)) {
      const wait = Math.max(waitMs, backoff[Math.min(retries, backoff.length - 1)] ?? 0);
      retries += 1;
      if (wait > maxRetryAfterMs) { if (!off('deployment-health')) deps.health.release(pick.ticket); return { kind: 'done', value: last!.value, deployment: last!.deployment, attempts: n }; }
      if (wait > 0) {
        try {
          await deps.sleep(wait, { abortSignal: options.abortSignal });
        } catch (e) {
          if (!off('deployment-health')) deps.health.release(pick.ticket);
          throw e;
        }
      }
    }
    if (last) options.discard?.(last.value);
    tried.add(deployment);
    let r: AttemptResult<R>;
    try {
      r = await attempt(deployment, n + 1);
    } catch (e) {
      // A throwing attempt is the caller's bug or an abort, not the deployment's failure: give the slot back.
      if (!off('deployment-health')) deps.health.release(pick.ticket);
      throw e;
    }
    last = { value: r.value, deployment };
    const o = r.outcome;
    const failed = o.kind !== 'response' || isFailoverStatus(o.status);
    if (!off('deployment-health')) deps.health.record(pick.ticket, !failed);
    if (!failed) return { kind: 'done', value: r.value, deployment, attempts: n + 1 };
    // After-send errors end a non-idempotent call: it may have been processed.
    if (o.kind === 'error' && !idempotent) return { kind: 'done', value: r.value, deployment, attempts: n + 1 };
    waitMs = o.kind === 'response' ? parseRetryAfterMs(o.header, deps.clock.nowMs()) ?? 0 : 0;
  }
  return { kind: 'done', value: last!.value, deployment: last!.deployment, attempts: maxAttempts };
}

type Pick = { ticket: BreakerTicket & { allowed: true }; deployment: string } | { ticket?: undefined; retryAfterMs: number };

// Untried deployments first, in configured order; then (idempotent calls only) the tried ones again.
function choose(deployments: readonly string[], tried: ReadonlySet<string>, idempotent: boolean, health: CircuitBreakerSet, healthOff: boolean): Pick {
  const order = [...deployments.filter((d) => !tried.has(d)), ...(idempotent ? deployments.filter((d) => tried.has(d)) : [])];
  let retryAfterMs = Number.POSITIVE_INFINITY;
  for (const d of order) {
    if (healthOff) return { ticket: { allowed: true, key: d, probe: false }, deployment: d };
    const t = health.admit(d);
    if (t.allowed) return { ticket: t, deployment: d };
    retryAfterMs = Math.min(retryAfterMs, t.retryAfterMs);
  }
  return { retryAfterMs: Number.isFinite(retryAfterMs) ? retryAfterMs : 1000 };
}
