// Per-tenant budget (T1-D "per-tenant token budget"): a rate (token buckets over requests and model tokens) and a
// quota per period. Rate exhaustion → LIMIT_RATE_EXCEEDED (429, retry later); a spent quota → LIMIT_QUOTA_EXCEEDED
// (403, as APIM's token-quota does), so clients can tell "slow down" from "stop until the period resets".
import { anumber } from '../crypto/assert';
import { assertBucketConfig, settleTokens, takeTokens, type TokenBucketConfig, type TokenBucketState } from './token-bucket';

export interface QuotaConfig {
  /** Units allowed per period. */
  readonly limit: number;
  /** Period length; periods are aligned to the Unix epoch (86 400 000 → UTC days). */
  readonly periodMs: number;
}

export interface TenantBudgetConfig {
  readonly requestRate: TokenBucketConfig;
  readonly requestQuota?: QuotaConfig;
  readonly modelTokenRate?: TokenBucketConfig;
  readonly modelTokenQuota?: QuotaConfig;
}

export interface QuotaCounter {
  readonly used: number;
  readonly periodStartMs: number;
}

/** One small document per tenant, stored under ETag compare-and-swap like a bucket. */
export interface TenantBudgetState {
  readonly requestBucket?: TokenBucketState;
  readonly modelTokenBucket?: TokenBucketState;
  readonly requestQuota?: QuotaCounter;
  readonly modelTokenQuota?: QuotaCounter;
}

export interface BudgetCharge {
  /** Requests to count, normally 1. */
  readonly requests: number;
  /** Model tokens reserved up front (an estimate); settle the real figure with {@link settleModelTokens}. */
  readonly modelTokens: number;
}

export type BudgetDimension = 'requests' | 'modelTokens';

export type BudgetDecision =
  | { readonly allowed: true; readonly state: TenantBudgetState }
  | {
      readonly allowed: false;
      readonly code: 'LIMIT_RATE_EXCEEDED';
      readonly dimension: BudgetDimension;
      readonly retryAfterMs: number;
      /** Unchanged input: a denied charge consumes nothing and needs no write. */
      readonly state: TenantBudgetState;
    }
  | {
      readonly allowed: false;
      readonly code: 'LIMIT_QUOTA_EXCEEDED';
      readonly dimension: BudgetDimension;
      /** When the period ends; undefined when the charge exceeds a limit outright and no reset will help. */
      readonly resetAtMs: number | undefined;
      readonly state: TenantBudgetState;
    };

/**
 * Checks and charges a tenant's budget, all or nothing: quotas first (a spent quota is 403 even while the rate would
 * also refuse), then rates. Reserve model tokens at admission (an estimate) so concurrent requests cannot all pass a
 * check-then-spend race (the LiteLLM budget-bypass issue), and settle the actual count afterwards.
 * @param state stored state, or undefined for a tenant never charged
 * @returns allowed with the state to store, or a decision with the code the edge maps to 429 / 403
 * @throws {TypeError|RangeError} for non-integer inputs or a malformed configuration
 * @example chargeTenantBudget(doc?.state, clock.nowMs(), { requests: 1, modelTokens: 0 }, budgetOf(tenant))
 */
export function chargeTenantBudget(
  state: TenantBudgetState | undefined,
  nowMs: number,
  charge: BudgetCharge,
  config: TenantBudgetConfig,
): BudgetDecision {
  anumber(nowMs, 'nowMs');
  const requests = anumber(charge.requests, 'requests');
  const modelTokens = anumber(charge.modelTokens, 'modelTokens');
  const current = state ?? {};

  const requestQuota = quotaAt(current.requestQuota, config.requestQuota, nowMs);
  const tokenQuota = quotaAt(current.modelTokenQuota, config.modelTokenQuota, nowMs);
  const quotaBreach = firstQuotaBreach([
    ['requests', requestQuota, config.requestQuota, requests],
    ['modelTokens', tokenQuota, config.modelTokenQuota, modelTokens],
  ]);
  if (quotaBreach !== undefined) return { allowed: false, code: 'LIMIT_QUOTA_EXCEEDED', ...quotaBreach, state: current };

  let requestBucket = current.requestBucket;
  if (requests > 0) {
    const taken = takeTokens(requestBucket, nowMs, requests, assertBucketConfig(config.requestRate));
    if (!taken.allowed) return denied('requests', taken, current);
    requestBucket = taken.state;
  }
  let modelTokenBucket = current.modelTokenBucket;
  if (modelTokens > 0 && config.modelTokenRate !== undefined) {
    const taken = takeTokens(modelTokenBucket, nowMs, modelTokens, assertBucketConfig(config.modelTokenRate));
    if (!taken.allowed) return denied('modelTokens', taken, current);
    modelTokenBucket = taken.state;
  }

  const next: { -readonly [K in keyof TenantBudgetState]: TenantBudgetState[K] } = {};
  if (requestBucket !== undefined) next.requestBucket = requestBucket;
  if (modelTokenBucket !== undefined) next.modelTokenBucket = modelTokenBucket;
  if (requestQuota !== undefined) next.requestQuota = { ...requestQuota, used: requestQuota.used + requests };
  if (tokenQuota !== undefined) next.modelTokenQuota = { ...tokenQuota, used: tokenQuota.used + modelTokens };
  return { allowed: true, state: next };
}

/**
 * Replaces a model-token reservation with the real count: the quota counter and the rate bucket are corrected
 * (refund when `actual < reserved`, extra charge — possibly pushing the quota over its limit, which the next charge
 * then refuses — when `actual > reserved`). A reservation from an earlier period is not refunded into the new one.
 */
export function settleModelTokens(
  state: TenantBudgetState,
  nowMs: number,
  settlement: { readonly reserved: number; readonly actual: number; readonly reservedAtMs: number },
  config: TenantBudgetConfig,
): TenantBudgetState {
  anumber(nowMs, 'nowMs');
  const reserved = anumber(settlement.reserved, 'reserved');
  const actual = anumber(settlement.actual, 'actual');
  const next: { -readonly [K in keyof TenantBudgetState]: TenantBudgetState[K] } = { ...state };
  const quota = quotaAt(state.modelTokenQuota, config.modelTokenQuota, nowMs);
  if (quota !== undefined && config.modelTokenQuota !== undefined) {
    const samePeriod = periodStart(anumber(settlement.reservedAtMs, 'reservedAtMs'), config.modelTokenQuota.periodMs) === quota.periodStartMs;
    const delta = samePeriod ? actual - reserved : actual;
    next.modelTokenQuota = { ...quota, used: Math.max(0, quota.used + delta) };
  }
  if (state.modelTokenBucket !== undefined && config.modelTokenRate !== undefined) {
    next.modelTokenBucket = settleTokens(state.modelTokenBucket, nowMs, reserved, actual, config.modelTokenRate);
  }
  return next;
}

/** Start of the epoch-aligned period containing `nowMs`. */
export function periodStart(nowMs: number, periodMs: number): number {
  return nowMs - (nowMs % periodMs);
}

function quotaAt(counter: QuotaCounter | undefined, quota: QuotaConfig | undefined, nowMs: number): QuotaCounter | undefined {
  if (quota === undefined) return undefined;
  if (anumber(quota.periodMs, 'periodMs') === 0) throw new RangeError('"periodMs" expected positive integer, got 0');
  anumber(quota.limit, 'limit');
  const start = periodStart(nowMs, quota.periodMs);
  // A counter from an earlier period is spent history; one from a later period (clock skew) is kept as is.
  if (counter === undefined || counter.periodStartMs < start) return { used: 0, periodStartMs: start };
  return counter;
}

function firstQuotaBreach(
  checks: ReadonlyArray<readonly [BudgetDimension, QuotaCounter | undefined, QuotaConfig | undefined, number]>,
): { dimension: BudgetDimension; resetAtMs: number | undefined } | undefined {
  for (const [dimension, counter, quota, amount] of checks) {
    if (counter === undefined || quota === undefined) continue;
    if (amount > quota.limit) return { dimension, resetAtMs: undefined };
    // A spent quota refuses even a charge of 0 (a request that reserves no model tokens still needs some left).
    if (counter.used + amount > quota.limit || counter.used >= quota.limit) {
      return { dimension, resetAtMs: counter.periodStartMs + quota.periodMs };
    }
  }
  return undefined;
}

function denied(
  dimension: BudgetDimension,
  taken: Extract<ReturnType<typeof takeTokens>, { allowed: false }>,
  state: TenantBudgetState,
): BudgetDecision {
  // A charge larger than the bucket can ever hold will never pass: that is a quota answer, not "retry later".
  if (taken.exceedsCapacity) return { allowed: false, code: 'LIMIT_QUOTA_EXCEEDED', dimension, resetAtMs: undefined, state };
  return { allowed: false, code: 'LIMIT_RATE_EXCEEDED', dimension, retryAfterMs: taken.retryAfterMs, state };
}
