// T1-D/RR3: how each shared limit document grants a lease chunk — global and per-agent token buckets, the tenant
// budget with the tenant's share of the cluster budget, and the cluster budget itself — as one compare-and-swap each.
import {
  nextPeriodEndMs, returnToQuotas, takeFromQuotas, tenantShareLimits, assertQuotaCounters,
  type ClusterBudgetConfig, type QuotaCounters, type QuotaLimits,
} from '../../core/limits/cluster-budget';
import { chargeTenantBudget, type TenantBudgetConfig, type TenantBudgetState } from '../../core/limits/tenant-budget';
import { assertBucketState, takeUpTo, type TokenBucketConfig, type TokenBucketState } from '../../core/limits/token-bucket';
import type { DocumentBody, DocumentStore } from '../../core/ports/document-store.port';
import type { LimitRefusal, Refill, RefillInput, RefillResult, Units, UnusedUnits } from './lease-pool';
import { CAS_CONTENDED, compareAndSwap, type CasOptions, type LimitDocumentKey } from './limit-documents';

export interface RefillContext {
  readonly store: DocumentStore;
  readonly cas: CasOptions;
  readonly leaseTtlMs: number;
  /** Longest time a refusal is answered from memory (others may give units back meanwhile). */
  readonly refusalCacheMaxMs: number;
  /** Wait reported when every compare-and-swap attempt lost the race. */
  readonly contendedRetryAfterMs: number;
  /** How long a document outlives the moment it would read as fresh anyway (a full bucket, a finished period). */
  readonly retentionMs: number;
  /**
   * Other instances expected to poll the same empty bucket. A rate refusal is remembered for its wait stretched by a
   * random factor in [1, 1 + pollSpread], so the instances do not all read (and race for) the same few tokens at the
   * same instant; tokens are not lost meanwhile, they wait in the bucket.
   */
  readonly pollSpread: number;
  readonly random: () => number;
}

const BUCKET_KIND = 'kars-limit-bucket';
const TENANT_KIND = 'kars-limit-tenant';
const CLUSTER_KIND = 'kars-limit-cluster';

/** A token bucket (global or one agent's): takes `want`, but at least a whole chunk, so a trickle costs no writes. */
export function bucketRefill(ctx: RefillContext, key: LimitDocumentKey, config: TokenBucketConfig, scope: 'global' | 'agent'): Refill {
  return async ({ held, want, chunk }) => {
    const min = Math.max(1, chunk.requests - held.requests);
    const r = await compareAndSwap<RefillResult>(ctx.store, key, (doc, nowMs) => {
      const taken = takeUpTo(readBucket(doc), nowMs, Math.max(want().requests, min), config, { min });
      if (taken.granted === 0) {
        return { result: refused(ctx, { kind: 'rate', scope, retryAtMs: nowMs + taken.retryAfterMs }, nowMs, taken.retryAfterMs, 0, false) };
      }
      // Under overload the bucket holds about one chunk when it is read; if another instance wins the race for it,
      // wait for the next chunk instead of reading again (a lost race then costs no further store call).
      const left = Math.floor(taken.state.level / config.refillPeriodMs);
      const nextChunkMs = Math.max(1, Math.ceil(((min - Math.min(left, min)) * config.refillPeriodMs) / config.refillTokens));
      return {
        result: { ok: true, granted: { requests: taken.granted, modelTokens: 0 }, expiresAtMs: nowMs + ctx.leaseTtlMs, returned: false },
        write: {
          id: key.id,
          kind: BUCKET_KIND,
          state: { level: taken.state.level, atMs: taken.state.atMs },
          expiresAtMs: Math.max(bucketFullAtMs(taken.state, config), nowMs) + ctx.retentionMs,
        },
        ...(left < min ? { ifLost: refused(ctx, { kind: 'rate', scope, retryAtMs: nowMs + nextChunkMs }, nowMs, nextChunkMs, 0, false) } : {}),
      };
    }, ctx.cas);
    return r === CAS_CONTENDED ? contended(ctx, scope) : r;
  };
}

/**
 * A tenant's budget (rates and quotas) and its share of the cluster budget, charged together, all or nothing.
 * Tries the demand, then a chunk, then (for quotas only) the exact need, so the last units of a quota stay usable
 * while a rate that is merely low makes the instance wait for a whole chunk.
 */
export function tenantRefill(
  ctx: RefillContext, key: LimitDocumentKey, budget: TenantBudgetConfig, cluster: ClusterBudgetConfig | undefined,
): Refill {
  const budgetLimits = tenantQuotaLimits(budget);
  const shareLimits = cluster === undefined ? {} : tenantShareLimits(cluster);
  const periodLimits = [budgetLimits, shareLimits];
  return async (input) => {
    const r = await compareAndSwap<RefillResult>(ctx.store, key, (doc, nowMs) => {
      const stored = readTenant(doc);
      let state = stored.budget;
      let share = stored.share;
      for (const u of input.unreturned) {
        state = returnToBudget(state, nowMs, u, budgetLimits);
        share = returnToQuotas(share, nowMs, u.units, u.grantedAtMs, shareLimits);
      }
      const returned = input.unreturned.length > 0;
      const firstTokens = input.min.modelTokens + input.held.modelTokens;
      let refusal: { refusal: LimitRefusal; retryAfterMs?: number; fromTokens: number } | undefined;
      for (const candidate of candidates(input)) {
        const c = chargeTenantBudget(state, nowMs, candidate.amount, budget);
        if (!c.allowed) {
          if (c.code === 'LIMIT_RATE_EXCEEDED') {
            refusal = {
              refusal: { kind: 'rate', scope: 'tenant', retryAtMs: nowMs + c.retryAfterMs },
              retryAfterMs: c.retryAfterMs,
              fromTokens: c.dimension === 'modelTokens' ? Math.max(1, firstTokens) : 0,
            };
            if (candidate.chunkOrLess) break;
          } else {
            refusal = { refusal: quotaRefusal(c.dimension, c.resetAtMs), fromTokens: c.dimension === 'modelTokens' ? Math.max(1, firstTokens) : 0 };
          }
          continue;
        }
        const s = takeFromQuotas(share, nowMs, candidate.amount, shareLimits);
        if (!s.allowed) {
          refusal = { refusal: quotaRefusal(s.dimension, s.resetAtMs), fromTokens: s.dimension === 'modelTokens' ? Math.max(1, firstTokens) : 0 };
          continue;
        }
        const expiresAtMs = Math.min(nowMs + ctx.leaseTtlMs, ...periodEnds(nowMs, periodLimits));
        const after = chargeTenantBudget(c.state, nowMs, { requests: 0, modelTokens: 0 }, budget);
        const afterShare = takeFromQuotas(s.state, nowMs, { requests: 0, modelTokens: 0 }, shareLimits);
        const spent = !after.allowed && after.code === 'LIMIT_QUOTA_EXCEEDED' && after.dimension === 'modelTokens'
          ? after.resetAtMs
          : !afterShare.allowed && afterShare.dimension === 'modelTokens' ? afterShare.resetAtMs : undefined;
        return {
          result: { ok: true, granted: candidate.amount, expiresAtMs, returned, ...exhaustedTokens(ctx, spent, nowMs) },
          write: tenantDocument(key.id, c.state, s.state, budget, shareLimits, nowMs, ctx.retentionMs),
        };
      }
      let final = refusal!;
      // A quota that refused this amount but would still admit the smallest request (1 request, 0 tokens) is not
      // spent: only requests reserving as many tokens are refused.
      if (final.refusal.kind === 'quota' && final.fromTokens > 0) {
        const smallest = { requests: 1, modelTokens: 0 };
        const c = chargeTenantBudget(state, nowMs, smallest, budget);
        const spent = (!c.allowed && c.code === 'LIMIT_QUOTA_EXCEEDED') || !takeFromQuotas(share, nowMs, smallest, shareLimits).allowed;
        if (spent) final = { ...final, fromTokens: 0 };
      }
      const result = refused(ctx, final.refusal, nowMs, final.retryAfterMs, final.fromTokens, returned);
      return returned ? { result, write: tenantDocument(key.id, state, share, budget, shareLimits, nowMs, ctx.retentionMs) } : { result };
    }, ctx.cas);
    return r === CAS_CONTENDED ? contended(ctx, 'tenant') : r;
  };
}

/**
 * The cluster budget (RR3): the sum over all tenants, leased per instance like the buckets. A spent cluster budget
 * is not the tenant's own quota, so it answers 429 with a Retry-After to the period's end rather than 403.
 */
export function clusterRefill(ctx: RefillContext, key: LimitDocumentKey, limits: QuotaLimits): Refill {
  return async (input) => {
    const r = await compareAndSwap<RefillResult>(ctx.store, key, (doc, nowMs) => {
      let counters = readCluster(doc);
      for (const u of input.unreturned) counters = returnToQuotas(counters, nowMs, u.units, u.grantedAtMs, limits);
      const returned = input.unreturned.length > 0;
      const wanted = input.want();
      const want = { requests: Math.max(wanted.requests, input.min.requests), modelTokens: Math.max(wanted.modelTokens, input.min.modelTokens) };
      const taken = takeFromQuotas(counters, nowMs, want, limits, { min: input.min });
      if (taken.allowed) {
        const expiresAtMs = Math.min(nowMs + ctx.leaseTtlMs, ...periodEnds(nowMs, [limits]));
        const after = takeFromQuotas(taken.state, nowMs, { requests: 0, modelTokens: 0 }, limits);
        const spent = !after.allowed && after.dimension === 'modelTokens' ? after.resetAtMs : undefined;
        const exhausted = spent === undefined ? {} : {
          exhausted: { refusal: { kind: 'rate', scope: 'global', retryAtMs: spent } as LimitRefusal, untilMs: Math.min(spent, nowMs + ctx.refusalCacheMaxMs) },
        };
        return {
          result: { ok: true, granted: taken.granted, expiresAtMs, returned, ...exhausted },
          write: clusterDocument(key.id, taken.state, limits, nowMs, ctx.retentionMs),
        };
      }
      const firstTokens = input.min.modelTokens + input.held.modelTokens;
      const smallestFits = taken.dimension === 'modelTokens' && takeFromQuotas(counters, nowMs, { requests: 1, modelTokens: 0 }, limits).allowed;
      const fromTokens = smallestFits ? Math.max(1, firstTokens) : 0;
      const result: RefillResult = taken.resetAtMs === undefined
        ? refused(ctx, quotaRefusal(taken.dimension, undefined), nowMs, undefined, fromTokens, returned)
        : refused(ctx, { kind: 'rate', scope: 'global', retryAtMs: taken.resetAtMs }, nowMs, taken.resetAtMs - nowMs, fromTokens, returned);
      return returned ? { result, write: clusterDocument(key.id, taken.state, limits, nowMs, ctx.retentionMs) } : { result };
    }, ctx.cas);
    return r === CAS_CONTENDED ? contended(ctx, 'global') : r;
  };
}

/** The tenant budget's own quotas as per-dimension limits. */
export function tenantQuotaLimits(budget: TenantBudgetConfig): QuotaLimits {
  return {
    ...(budget.requestQuota !== undefined ? { requests: budget.requestQuota } : {}),
    ...(budget.modelTokenQuota !== undefined ? { modelTokens: budget.modelTokenQuota } : {}),
  };
}

function candidates(input: RefillInput): Array<{ amount: Units; chunkOrLess: boolean }> {
  const wanted = input.want();
  const chunk: Units = {
    requests: Math.max(input.min.requests, Math.min(wanted.requests, input.chunk.requests - input.held.requests)),
    modelTokens: Math.max(input.min.modelTokens, Math.min(wanted.modelTokens, input.chunk.modelTokens - input.held.modelTokens)),
  };
  const want: Units = { requests: Math.max(wanted.requests, input.min.requests), modelTokens: Math.max(wanted.modelTokens, input.min.modelTokens) };
  const out: Array<{ amount: Units; chunkOrLess: boolean }> = [];
  for (const [amount, chunkOrLess] of [[want, false], [chunk, true], [input.min, true]] as const) {
    if (!out.some((o) => o.amount.requests === amount.requests && o.amount.modelTokens === amount.modelTokens)) {
      out.push({ amount, chunkOrLess: chunkOrLess || (amount.requests <= chunk.requests && amount.modelTokens <= chunk.modelTokens) });
    }
  }
  return out;
}

function returnToBudget(state: TenantBudgetState, nowMs: number, unused: UnusedUnits, limits: QuotaLimits): TenantBudgetState {
  const counters = returnToQuotas(
    { ...(state.requestQuota ? { requests: state.requestQuota } : {}), ...(state.modelTokenQuota ? { modelTokens: state.modelTokenQuota } : {}) },
    nowMs, unused.units, unused.grantedAtMs, limits,
  );
  return {
    ...state,
    ...(counters.requests ? { requestQuota: counters.requests } : {}),
    ...(counters.modelTokens ? { modelTokenQuota: counters.modelTokens } : {}),
  };
}

function quotaRefusal(dimension: 'requests' | 'modelTokens', resetsAtMs: number | undefined): LimitRefusal {
  return { kind: 'quota', scope: dimension === 'requests' ? 'requests' : 'tokens', resetsAtMs };
}

function refused(
  ctx: RefillContext, refusal: LimitRefusal, nowMs: number, waitMs: number | undefined, appliesFromTokens: number, returned: boolean,
): RefillResult {
  // A refusal that no wait can fix (more than a limit allows) is specific to this request: not cached.
  const until = refusal.kind === 'quota'
    ? (refusal.resetsAtMs === undefined ? undefined : Math.min(refusal.resetsAtMs, nowMs + ctx.refusalCacheMaxMs))
    : nowMs + Math.min(Math.ceil(Math.max(1, waitMs ?? 1) * (1 + ctx.random() * ctx.pollSpread)), ctx.refusalCacheMaxMs);
  return { ok: false, refusal, cacheUntilMs: until, appliesFromTokens, returned };
}

function exhaustedTokens(ctx: RefillContext, resetAtMs: number | undefined, nowMs: number): { exhausted?: { refusal: LimitRefusal; untilMs: number } } {
  if (resetAtMs === undefined) return {};
  return { exhausted: { refusal: quotaRefusal('modelTokens', resetAtMs), untilMs: Math.min(resetAtMs, nowMs + ctx.refusalCacheMaxMs) } };
}

function contended(ctx: RefillContext, scope: 'global' | 'agent' | 'tenant'): RefillResult {
  return {
    ok: false,
    refusal: { kind: 'rate', scope, retryAtMs: ctx.cas.nowMs() + ctx.contendedRetryAfterMs },
    cacheUntilMs: undefined,
    appliesFromTokens: 0,
    returned: false,
  };
}

function periodEnds(nowMs: number, limits: readonly QuotaLimits[]): number[] {
  return limits.map((l) => nextPeriodEndMs(nowMs, l)).filter((e): e is number => e !== undefined);
}

function bucketFullAtMs(state: TokenBucketState, config: TokenBucketConfig): number {
  const missing = config.capacity * config.refillPeriodMs - state.level;
  return state.atMs + Math.max(0, Math.ceil(missing / config.refillTokens));
}

function readBucket(doc: DocumentBody | undefined): TokenBucketState | undefined {
  if (doc === undefined) return undefined;
  if (doc['kind'] !== BUCKET_KIND) throw new TypeError('limit document is not a bucket');
  return assertBucketState(doc['state'] as TokenBucketState);
}

function readTenant(doc: DocumentBody | undefined): { budget: TenantBudgetState; share: QuotaCounters } {
  if (doc === undefined) return { budget: {}, share: {} };
  if (doc['kind'] !== TENANT_KIND) throw new TypeError('limit document is not a tenant budget');
  const budget = (doc['budget'] ?? {}) as TenantBudgetState;
  if (typeof budget !== 'object' || budget === null) throw new TypeError('"budget" expected object');
  if (budget.requestBucket !== undefined) assertBucketState(budget.requestBucket);
  if (budget.modelTokenBucket !== undefined) assertBucketState(budget.modelTokenBucket);
  assertQuotaCounters({
    ...(budget.requestQuota ? { requests: budget.requestQuota } : {}),
    ...(budget.modelTokenQuota ? { modelTokens: budget.modelTokenQuota } : {}),
  });
  return { budget, share: assertQuotaCounters((doc['share'] ?? {}) as QuotaCounters) ?? {} };
}

function readCluster(doc: DocumentBody | undefined): QuotaCounters | undefined {
  if (doc === undefined) return undefined;
  if (doc['kind'] !== CLUSTER_KIND) throw new TypeError('limit document is not a cluster budget');
  return assertQuotaCounters(doc['counters'] as QuotaCounters);
}

function tenantDocument(
  id: string, budget: TenantBudgetState, share: QuotaCounters, config: TenantBudgetConfig, shareLimits: QuotaLimits,
  nowMs: number, retentionMs: number,
): DocumentBody {
  const ends = [nowMs];
  if (budget.requestBucket) ends.push(bucketFullAtMs(budget.requestBucket, config.requestRate));
  if (budget.modelTokenBucket && config.modelTokenRate) ends.push(bucketFullAtMs(budget.modelTokenBucket, config.modelTokenRate));
  if (budget.requestQuota && config.requestQuota) ends.push(budget.requestQuota.periodStartMs + config.requestQuota.periodMs);
  if (budget.modelTokenQuota && config.modelTokenQuota) ends.push(budget.modelTokenQuota.periodStartMs + config.modelTokenQuota.periodMs);
  ends.push(...counterEnds(share, shareLimits));
  return { id, kind: TENANT_KIND, budget: JSON.parse(JSON.stringify(budget)) as TenantBudgetState, share: { ...share }, expiresAtMs: Math.max(...ends) + retentionMs };
}

function clusterDocument(id: string, counters: QuotaCounters, limits: QuotaLimits, nowMs: number, retentionMs: number): DocumentBody {
  return { id, kind: CLUSTER_KIND, counters: { ...counters }, expiresAtMs: Math.max(nowMs, ...counterEnds(counters, limits)) + retentionMs };
}

function counterEnds(counters: QuotaCounters, limits: QuotaLimits): number[] {
  const out: number[] = [];
  if (counters.requests && limits.requests) out.push(counters.requests.periodStartMs + limits.requests.periodMs);
  if (counters.modelTokens && limits.modelTokens) out.push(counters.modelTokens.periodStartMs + limits.modelTokens.periodMs);
  return out;
}
