// Token bucket with exact integer arithmetic and explicit time (T1-D channel flood; T2-D/T4-D reuse it). Pure: the
// state is a two-number object that a shared store keeps under ETag compare-and-swap, so many Function instances
// enforce one limit together.
import { anumber } from '../crypto/assert';

export interface TokenBucketConfig {
  /** Bucket size in tokens: the burst a full bucket admits at once. Positive integer. */
  readonly capacity: number;
  /** Tokens added per `refillPeriodMs`, continuously (not in steps). Positive integer. */
  readonly refillTokens: number;
  /** Period of `refillTokens`, in ms. Positive integer; 1000 for "per second". */
  readonly refillPeriodMs: number;
}

/**
 * Bucket state. `level` counts in units of 1/refillPeriodMs of a token, so refilling is `elapsedMs × refillTokens`,
 * an exact integer; with the 1 s period a unit is a milli-token. `level` may be negative after
 * {@link settleTokens} charged more than was reserved (debt is paid back by refill before anything else passes).
 */
export interface TokenBucketState {
  readonly level: number;
  /** Instant `level` refers to (ms since the epoch); never moves backwards. */
  readonly atMs: number;
}

export type TakeResult =
  | { readonly allowed: true; readonly state: TokenBucketState; readonly remaining: number }
  | {
      readonly allowed: false;
      /** The input state (a fresh full bucket when there was none): nothing to write back after a denial. */
      readonly state: TokenBucketState;
      /** Wait until `n` tokens are available, assuming nobody else takes any. */
      readonly retryAfterMs: number;
      /** `n` > capacity: this request can never pass, whatever the wait. */
      readonly exceedsCapacity: boolean;
    };

/** `rate` tokens per second with a bucket of `burst` tokens, e.g. `perSecond(500, 1000)` for T1-D's global limit. */
export function perSecond(rate: number, burst: number): TokenBucketConfig {
  return assertBucketConfig({ capacity: burst, refillTokens: rate, refillPeriodMs: 1000 });
}

/**
 * Checks a configuration once, at startup.
 * @throws {TypeError|RangeError} when a field is not a positive safe integer, or `capacity × refillPeriodMs` (the
 *   largest level) does not fit in a safe integer
 */
export function assertBucketConfig(config: TokenBucketConfig): TokenBucketConfig {
  for (const field of ['capacity', 'refillTokens', 'refillPeriodMs'] as const) {
    if (anumber(config[field], field) === 0) throw new RangeError(`"${field}" expected positive integer, got 0`);
  }
  if (!Number.isSafeInteger(config.capacity * config.refillPeriodMs)) throw new RangeError('"capacity × refillPeriodMs" exceeds 2^53-1');
  return config;
}

/** A full bucket at `nowMs`: the state to use when the store has none yet. */
export function fullBucket(config: TokenBucketConfig, nowMs: number): TokenBucketState {
  return { level: config.capacity * config.refillPeriodMs, atMs: nowMs };
}

/**
 * The state refilled up to `nowMs`. A `nowMs` earlier than `state.atMs` (another instance's clock runs ahead) refills
 * nothing and keeps `atMs`: clock skew between instances can only make the limiter stricter, never looser.
 */
export function refill(state: TokenBucketState, nowMs: number, config: TokenBucketConfig): TokenBucketState {
  const max = config.capacity * config.refillPeriodMs;
  if (nowMs <= state.atMs) return state.level > max ? { level: max, atMs: state.atMs } : state;
  // Clamp the elapsed time to what fills an empty bucket, so the product stays a safe integer after long idles.
  const fillMs = Math.ceil((max - Math.min(state.level, 0) + 1) / config.refillTokens);
  const elapsedMs = Math.min(nowMs - state.atMs, fillMs);
  return { level: Math.min(max, state.level + elapsedMs * config.refillTokens), atMs: nowMs };
}

/**
 * Takes `n` tokens at `nowMs` if they are all available; all or nothing.
 * @param state stored state, or undefined for a bucket never used (starts full)
 * @param nowMs `clock.nowMs()`
 * @param n tokens to take (1 per request, or a model-token estimate); positive integer
 * @param config the bucket's configuration
 * @returns allowed with the new state to store, or denied with the unchanged state, `retryAfterMs` and whether the
 *   request exceeds the capacity
 * @throws {TypeError|RangeError} for a non-integer `nowMs` or `n`, or a malformed state (a bug or a corrupt document)
 * @example const r = takeTokens(doc?.state, clock.nowMs(), 1, perSecond(500, 1000));
 */
export function takeTokens(state: TokenBucketState | undefined, nowMs: number, n: number, config: TokenBucketConfig): TakeResult {
  anumber(nowMs, 'nowMs');
  if (anumber(n, 'n') === 0) throw new RangeError('"n" expected positive integer, got 0');
  const current = state === undefined ? fullBucket(config, nowMs) : assertBucketState(state);
  const refilled = refill(current, nowMs, config);
  const cost = n * config.refillPeriodMs;
  if (refilled.level >= cost) {
    const next = { level: refilled.level - cost, atMs: refilled.atMs };
    return { allowed: true, state: next, remaining: Math.floor(Math.max(0, next.level) / config.refillPeriodMs) };
  }
  return {
    allowed: false,
    state: current,
    retryAfterMs: Math.max(1, Math.ceil((cost - refilled.level) / config.refillTokens)) + Math.max(0, refilled.atMs - nowMs),
    exceedsCapacity: n > config.capacity,
  };
}

/**
 * Takes as many whole tokens as are available, up to `max`, but only if at least `min` are (default 1). Used to hand
 * a process a lease of tokens so it need not write the shared state for every request (see token-lease.ts). Under
 * overload the shared bucket refills a trickle at a time; `min = max` makes a process wait for a whole chunk instead
 * of writing once per trickled token.
 * @returns `granted` (0 when fewer than `min` are available) with the new state, or the unchanged state and
 *   `retryAfterMs` until `min` tokens are available
 */
export function takeUpTo(
  state: TokenBucketState | undefined,
  nowMs: number,
  max: number,
  config: TokenBucketConfig,
  options?: { readonly min?: number },
): { readonly granted: number; readonly state: TokenBucketState; readonly retryAfterMs: number } {
  anumber(nowMs, 'nowMs');
  if (anumber(max, 'max') === 0) throw new RangeError('"max" expected positive integer, got 0');
  const min = Math.min(max, config.capacity, Math.max(1, anumber(options?.min ?? 1, 'min')));
  const current = state === undefined ? fullBucket(config, nowMs) : assertBucketState(state);
  const refilled = refill(current, nowMs, config);
  const available = Math.max(0, Math.floor(refilled.level / config.refillPeriodMs));
  if (available < min) {
    const retryAfterMs = Math.max(1, Math.ceil((min * config.refillPeriodMs - refilled.level) / config.refillTokens));
    return { granted: 0, state: current, retryAfterMs: retryAfterMs + Math.max(0, refilled.atMs - nowMs) };
  }
  const granted = Math.min(max, available);
  return { granted, state: { level: refilled.level - granted * config.refillPeriodMs, atMs: refilled.atMs }, retryAfterMs: 0 };
}

/**
 * Corrects a reservation once the real cost is known (model tokens after the call): refunds unused tokens, or charges
 * the excess as debt (the level may go negative, delaying later takes until it is paid back).
 */
export function settleTokens(
  state: TokenBucketState,
  nowMs: number,
  reserved: number,
  actual: number,
  config: TokenBucketConfig,
): TokenBucketState {
  anumber(reserved, 'reserved');
  anumber(actual, 'actual');
  const refilled = refill(assertBucketState(state), nowMs, config);
  const max = config.capacity * config.refillPeriodMs;
  return { level: Math.min(max, refilled.level + (reserved - actual) * config.refillPeriodMs), atMs: refilled.atMs };
}

/**
 * Most requests (of 1 token) a bucket can admit in any window of `windowMs`: the full burst plus the refill during
 * the window. This is the bound the multi-process test checks against.
 */
export function maxAdmittedInWindow(config: TokenBucketConfig, windowMs: number): number {
  return config.capacity + Math.floor((anumber(windowMs, 'windowMs') * config.refillTokens) / config.refillPeriodMs);
}

/**
 * Validates a state read from a store.
 * @throws {TypeError} when `level` or `atMs` is not a safe integer (`atMs` also non-negative)
 */
export function assertBucketState(state: TokenBucketState): TokenBucketState {
  if (typeof state !== 'object' || state === null || !Number.isSafeInteger(state.level)) {
    throw new TypeError('"state.level" expected safe integer');
  }
  anumber(state.atMs, 'state.atMs');
  return state;
}
