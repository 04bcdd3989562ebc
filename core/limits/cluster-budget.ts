// RR3 (per-cluster token budget): quotas over the sum of all tenants' requests and model tokens per period, above the
// tenant budgets, plus a cap on each tenant's share of them, so one noisy tenant cannot spend what its peers need.
// Pure and integer: the cluster counters and each tenant's share counters are small documents under ETag CAS, taken
// in leases (a chunk per write) like the token buckets.
import { anumber } from '../crypto/assert';
import { periodStart, type BudgetDimension, type QuotaConfig, type QuotaCounter } from './tenant-budget';

export interface ClusterBudgetConfig {
  /** Requests per period summed over every tenant. */
  readonly requestQuota?: QuotaConfig;
  /** Model tokens per period summed over every tenant (the upstream deployment's capacity). */
  readonly modelTokenQuota?: QuotaConfig;
  /**
   * Largest fraction of each cluster quota one tenant may use in a period, in (0, 1]. With 0.5 a noisy tenant stops at
   * half the cluster budget and its peers keep the other half; 1 turns the share cap off (the total still holds).
   */
  readonly maxTenantShare: number;
}

/** Quotas per dimension: the cluster's, or one tenant's share of them ({@link tenantShareLimits}). */
export interface QuotaLimits {
  readonly requests?: QuotaConfig;
  readonly modelTokens?: QuotaConfig;
}

/** Counters per dimension: the cluster document, or the share counters kept in a tenant's document. */
export interface QuotaCounters {
  readonly requests?: QuotaCounter;
  readonly modelTokens?: QuotaCounter;
}

export interface QuotaAmount {
  readonly requests: number;
  readonly modelTokens: number;
}

export type QuotaTake =
  | { readonly allowed: true; readonly granted: QuotaAmount; readonly state: QuotaCounters }
  | {
      readonly allowed: false;
      readonly dimension: BudgetDimension;
      /** End of the period; undefined when the amount exceeds the limit outright and no reset will help. */
      readonly resetAtMs: number | undefined;
      /** Input counters rolled to the current period; nothing to write after a refusal. */
      readonly state: QuotaCounters;
    };

const DIMENSIONS = ['requests', 'modelTokens'] as const;

/**
 * Checks a configuration once, at startup.
 * @throws {TypeError|RangeError} for a share outside (0, 1], a malformed quota, or a share that rounds to 0 units
 */
export function assertClusterBudgetConfig(config: ClusterBudgetConfig): ClusterBudgetConfig {
  const share = config.maxTenantShare;
  if (typeof share !== 'number') throw new TypeError('"maxTenantShare" expected number');
  if (!(share > 0 && share <= 1)) throw new RangeError('"maxTenantShare" expected a fraction in (0, 1]');
  for (const quota of [config.requestQuota, config.modelTokenQuota]) {
    if (quota === undefined) continue;
    if (anumber(quota.limit, 'limit') === 0) throw new RangeError('"limit" expected positive integer, got 0');
    if (anumber(quota.periodMs, 'periodMs') === 0) throw new RangeError('"periodMs" expected positive integer, got 0');
    if (Math.floor(quota.limit * share) < 1) throw new RangeError('"maxTenantShare × limit" must allow at least 1 unit');
  }
  return config;
}

/** The cluster's own quotas per dimension. */
export function clusterQuotaLimits(config: ClusterBudgetConfig): QuotaLimits {
  return {
    ...(config.requestQuota !== undefined ? { requests: config.requestQuota } : {}),
    ...(config.modelTokenQuota !== undefined ? { modelTokens: config.modelTokenQuota } : {}),
  };
}

/** One tenant's cap on each cluster quota: `floor(limit × maxTenantShare)` over the same period. */
export function tenantShareLimits(config: ClusterBudgetConfig): QuotaLimits {
  const scale = (q: QuotaConfig): QuotaConfig => ({ limit: Math.floor(q.limit * config.maxTenantShare), periodMs: q.periodMs });
  return {
    ...(config.requestQuota !== undefined ? { requests: scale(config.requestQuota) } : {}),
    ...(config.modelTokenQuota !== undefined ? { modelTokens: scale(config.modelTokenQuota) } : {}),
  };
}

/**
 * Takes `want` from every limited dimension if it fits, else `min` (the exact need) if that fits, else refuses.
 * A spent quota refuses even an amount of 0, as the tenant budget does: a request that reserves no model tokens
 * still needs some left. Dimensions without a limit are not counted.
 * @param state stored counters, or undefined for none yet
 * @param want amount to take (a lease chunk)
 * @param limits quotas per dimension
 * @param options.min fallback amount (default `want`), so the last units of a quota stay usable
 * @returns allowed with the granted amount and the counters to store, or the first refusing dimension
 * @throws {TypeError|RangeError} for non-integer inputs or a malformed state
 * @example takeFromQuotas(doc?.counters, clock.nowMs(), { requests: 64, modelTokens: 0 }, limits, { min: { requests: 1, modelTokens: 0 } })
 */
export function takeFromQuotas(
  state: QuotaCounters | undefined,
  nowMs: number,
  want: QuotaAmount,
  limits: QuotaLimits,
  options?: { readonly min?: QuotaAmount },
): QuotaTake {
  anumber(nowMs, 'nowMs');
  const rolled = rollCounters(state, nowMs, limits);
  const first = tryTake(rolled, want, limits);
  if (first === undefined) return { allowed: true, granted: want, state: add(rolled, want, limits) };
  const min = options?.min;
  if (min === undefined) return { allowed: false, ...first, state: rolled };
  const second = tryTake(rolled, min, limits);
  if (second === undefined) return { allowed: true, granted: min, state: add(rolled, min, limits) };
  return { allowed: false, ...second, state: rolled };
}

/**
 * Gives back units that were taken at `grantedAtMs` but never used (an expired lease), in each dimension whose
 * period is still the one they were taken in; units from an earlier period are history and are not returned.
 */
export function returnToQuotas(
  state: QuotaCounters | undefined,
  nowMs: number,
  unused: QuotaAmount,
  grantedAtMs: number,
  limits: QuotaLimits,
): QuotaCounters {
  anumber(grantedAtMs, 'grantedAtMs');
  const rolled = rollCounters(state, nowMs, limits);
  const next: { -readonly [K in keyof QuotaCounters]: QuotaCounters[K] } = { ...rolled };
  for (const d of DIMENSIONS) {
    const counter = rolled[d];
    const quota = limits[d];
    const amount = anumber(unused[d], d);
    if (counter === undefined || quota === undefined || amount === 0) continue;
    if (periodStart(grantedAtMs, quota.periodMs) !== counter.periodStartMs) continue;
    next[d] = { ...counter, used: Math.max(0, counter.used - amount) };
  }
  return next;
}

/** The earliest end of the current periods of `limits` (a lease must not outlive its period), or undefined. */
export function nextPeriodEndMs(nowMs: number, limits: QuotaLimits): number | undefined {
  let end: number | undefined;
  for (const d of DIMENSIONS) {
    const quota = limits[d];
    if (quota === undefined) continue;
    const e = periodStart(nowMs, quota.periodMs) + quota.periodMs;
    end = end === undefined ? e : Math.min(end, e);
  }
  return end;
}

/**
 * Validates counters read from a store.
 * @throws {TypeError|RangeError} when a counter's `used` or `periodStartMs` is not a non-negative safe integer
 */
export function assertQuotaCounters(state: QuotaCounters | undefined): QuotaCounters | undefined {
  if (state === undefined) return undefined;
  if (typeof state !== 'object' || state === null) throw new TypeError('"counters" expected object');
  for (const d of DIMENSIONS) {
    const c = state[d];
    if (c === undefined) continue;
    if (typeof c !== 'object' || c === null) throw new TypeError(`"counters.${d}" expected object`);
    anumber(c.used, `counters.${d}.used`);
    anumber(c.periodStartMs, `counters.${d}.periodStartMs`);
  }
  return state;
}

function rollCounters(state: QuotaCounters | undefined, nowMs: number, limits: QuotaLimits): QuotaCounters {
  const current = assertQuotaCounters(state) ?? {};
  const next: { -readonly [K in keyof QuotaCounters]: QuotaCounters[K] } = {};
  for (const d of DIMENSIONS) {
    const quota = limits[d];
    if (quota === undefined) continue;
    const start = periodStart(nowMs, quota.periodMs);
    const counter = current[d];
    // A counter from an earlier period is spent history; one from a later period (clock skew) is kept as is.
    next[d] = counter === undefined || counter.periodStartMs < start ? { used: 0, periodStartMs: start } : counter;
  }
  return next;
}

function tryTake(
  counters: QuotaCounters, amount: QuotaAmount, limits: QuotaLimits,
): { dimension: BudgetDimension; resetAtMs: number | undefined } | undefined {
  for (const d of DIMENSIONS) {
    const quota = limits[d];
    const counter = counters[d];
    const n = anumber(amount[d], d);
    if (quota === undefined || counter === undefined) continue;
    if (n > quota.limit) return { dimension: d, resetAtMs: undefined };
    if (counter.used >= quota.limit || counter.used + n > quota.limit) {
      return { dimension: d, resetAtMs: counter.periodStartMs + quota.periodMs };
    }
  }
  return undefined;
}

function add(counters: QuotaCounters, amount: QuotaAmount, limits: QuotaLimits): QuotaCounters {
  const next: { -readonly [K in keyof QuotaCounters]: QuotaCounters[K] } = { ...counters };
  for (const d of DIMENSIONS) {
    const counter = counters[d];
    if (counter === undefined || limits[d] === undefined) continue;
    next[d] = { ...counter, used: counter.used + amount[d] };
  }
  return next;
}
