// T1-D + RR3: the EdgeLimiter that several Function instances share through the DocumentStore — global bucket,
// per-agent buckets, per-tenant budgets and a cluster-wide budget with a per-tenant share cap — each in one small
// document under ETag compare-and-swap, taken in leases (a write per chunk, not per request). Fails closed: when the
// store cannot be reached the answer is 429 with Retry-After, never an unaccounted admission.
import { isKarsError, KarsError } from '../../core/errors';
import {
  assertClusterBudgetConfig, clusterQuotaLimits, tenantShareLimits, type ClusterBudgetConfig, type QuotaLimits,
} from '../../core/limits/cluster-budget';
import { LIMIT_MITIGATIONS, DEFAULT_AGENT_LIMIT, DEFAULT_GLOBAL_LIMIT, type LimitMitigation } from '../../core/limits/edge-admission';
import type { QuotaConfig, TenantBudgetConfig } from '../../core/limits/tenant-budget';
import { assertBucketConfig, perSecond, type TokenBucketConfig } from '../../core/limits/token-bucket';
import { leaseChunkSize } from '../../core/limits/token-lease';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { EdgeAdmission, EdgeLimiter, EdgeLimiterOptions } from '../../core/ports/edge-limiter.port';
import type { Logger } from '../../core/ports/logger.port';
import { silentLogger } from '../../core/ports/logger.port';
import { LeasePool, type LeasePoolOptions, type LimitRefusal, type Units } from './lease-pool';
import { limitDocumentKey, type StoreCounters } from './limit-documents';
import { bucketRefill, clusterRefill, tenantQuotaLimits, tenantRefill, type RefillContext } from './limit-refills';

/**
 * Tenant budget when none is configured: half the global edge rate, so no single tenant can take the whole edge
 * (the same idea as the cluster share cap), and no quota.
 */
export const DEFAULT_SHARED_TENANT_BUDGET: TenantBudgetConfig = { requestRate: perSecond(250, 500) };

/**
 * Cluster budget when none is configured (RR3). Placeholders sized for one typical model deployment (100k tokens per
 * minute) and two thirds of the edge's sustained rate; operators set them to their real capacity.
 */
export const DEFAULT_CLUSTER_BUDGET: ClusterBudgetConfig = {
  requestQuota: { limit: 1_200_000, periodMs: 3_600_000 },
  modelTokenQuota: { limit: 6_000_000, periodMs: 3_600_000 },
  maxTenantShare: 0.5,
};

/** Per-limit lease chunks; each field overrides the computed default. */
export interface LeaseChunks {
  global: number;
  agent: number;
  tenantRequests: number;
  tenantModelTokens: number;
  clusterRequests: number;
  clusterModelTokens: number;
}

export interface SharedEdgeLimiterOptions {
  /** Default: T1-D's 500 rps, burst 1000. */
  global?: TokenBucketConfig;
  /** Default: T1-D's 50 rps, burst 100, for every agent. */
  agent?: TokenBucketConfig;
  /** Budget per tenant (one config, or a lookup); default {@link DEFAULT_SHARED_TENANT_BUDGET}. */
  tenantBudget?: TenantBudgetConfig | ((tenantId: string) => TenantBudgetConfig);
  /** RR3 cluster budget above the tenant budgets; default {@link DEFAULT_CLUSTER_BUDGET}; `false` turns it off. */
  cluster?: ClusterBudgetConfig | false;
  /** Instances expected to share the store (the app's maximum instance count); sizes the chunks. Default 3. */
  instances?: number;
  /** Share of a bucket's per-second rate that all instances' leases together may shift into one window. Default 0.05. */
  overshootFraction?: number;
  /** Share of a quota that all instances' leases together may hold unused. Default 0.01. */
  quotaLeaseFraction?: number;
  /** Explicit chunk sizes, overriding the ones computed from `instances` and the fractions. */
  chunks?: Partial<LeaseChunks>;
  /** Unused leased units are dropped (buckets) or given back at the next write (quotas) after this. Default 2000. */
  leaseTtlMs?: number;
  /** Compare-and-swap attempts per refill before refusing for now (a short 429). Default 8. */
  maxCasAttempts?: number;
  /** Deadline for each store call; a slower store counts as unavailable. Default 1000. */
  storeTimeoutMs?: number;
  /** Retry-After given while the store is unavailable (fail closed), and how long that answer is reused. Default 1000. */
  unavailableRetryAfterMs?: number;
  /** Longest time a refusal is answered from memory without asking the store again. Default 1000. */
  refusalCacheMaxMs?: number;
  /** Partition key prefix of the limit documents. Default 'limit'. */
  keyPrefix?: string;
  /** Most agent and tenant leases kept; idle ones are dropped first. Default 10 000. */
  maxEntries?: number;
  clock?: Clock;
  logger?: Logger;
  /** TEST ONLY: limits switched off to show their attack test bites. Never set from configuration. */
  _disable?: readonly LimitMitigation[];
}

export interface SharedEdgeLimiterStats extends StoreCounters {
  admitted: number;
  refused: number;
  /** Refusals because the store failed or timed out (fail closed). */
  storeFailures: number;
}

export interface SharedEdgeLimiter extends EdgeLimiter {
  /** Running totals since creation (store reads, writes, conflicts, admissions). */
  stats(): SharedEdgeLimiterStats;
  /** The chunk sizes in use. */
  readonly chunks: Readonly<LeaseChunks>;
}

const MAX_GRANT_FACTOR = 8;
const MAX_ID_LENGTH = 1024;

/**
 * Creates the shared limiter.
 * @param store the DocumentStore every instance uses (Cosmos in Azure and locally, memory in unit tests)
 * @throws {TypeError|RangeError} for a malformed configuration (checked once, here)
 * @example createSharedEdgeLimiter(new CosmosDocumentStore(container), { instances: 3 })
 */
export function createSharedEdgeLimiter(store: DocumentStore, options: SharedEdgeLimiterOptions = {}): SharedEdgeLimiter {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const nowMs = (): number => clock.nowMs();
  const disabled = new Set(options._disable ?? []);
  for (const m of disabled) {
    if (!(LIMIT_MITIGATIONS as readonly string[]).includes(m)) throw new TypeError('"_disable" has an unknown limit');
  }
  const global = assertBucketConfig(options.global ?? DEFAULT_GLOBAL_LIMIT);
  const agent = assertBucketConfig(options.agent ?? DEFAULT_AGENT_LIMIT);
  const cluster = options.cluster === false || disabled.has('cluster-budget') ? undefined : assertClusterBudgetConfig(options.cluster ?? DEFAULT_CLUSTER_BUDGET);
  const budgetOf = typeof options.tenantBudget === 'function'
    ? options.tenantBudget
    : (() => { const b = options.tenantBudget ?? DEFAULT_SHARED_TENANT_BUDGET; return () => b; })();
  const instances = positive(options.instances ?? 3, 'instances');
  if (instances > 1000) throw new RangeError('"instances" expected at most 1000');
  const overshootFraction = options.overshootFraction ?? 0.05;
  const quotaLeaseFraction = options.quotaLeaseFraction ?? 0.01;
  if (!(quotaLeaseFraction > 0 && quotaLeaseFraction <= 1)) throw new RangeError('"quotaLeaseFraction" expected a fraction in (0, 1]');
  const unavailableRetryAfterMs = positive(options.unavailableRetryAfterMs ?? 1000, 'unavailableRetryAfterMs');
  const prefix = options.keyPrefix ?? 'limit';
  const maxEntries = positive(options.maxEntries ?? 10_000, 'maxEntries');
  const counters: SharedEdgeLimiterStats = { reads: 0, writes: 0, conflicts: 0, contended: 0, admitted: 0, refused: 0, storeFailures: 0 };

  const ctx: RefillContext = {
    store,
    cas: {
      maxAttempts: positive(options.maxCasAttempts ?? 8, 'maxCasAttempts'),
      timeoutMs: positive(options.storeTimeoutMs ?? 1000, 'storeTimeoutMs'),
      counters,
      nowMs,
    },
    leaseTtlMs: positive(options.leaseTtlMs ?? 2000, 'leaseTtlMs'),
    refusalCacheMaxMs: positive(options.refusalCacheMaxMs ?? 1000, 'refusalCacheMaxMs'),
    contendedRetryAfterMs: 50,
    retentionMs: 60_000,
    pollSpread: instances - 1,
    random: Math.random,
  };

  const bucketChunk = (c: TokenBucketConfig): number => Math.min(c.capacity, leaseChunkSize(c, { processes: instances, overshootFraction }));
  const quotaChunk = (q: QuotaConfig | undefined): number =>
    q === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((q.limit * quotaLeaseFraction) / instances));
  const clusterLimits: QuotaLimits = cluster === undefined ? {} : clusterQuotaLimits(cluster);
  const shareLimits: QuotaLimits = cluster === undefined ? {} : tenantShareLimits(cluster);

  const chunks: LeaseChunks = {
    global: options.chunks?.global ?? bucketChunk(global),
    agent: options.chunks?.agent ?? bucketChunk(agent),
    // Tenant chunks depend on the tenant's budget; these are for the default budget (per-tenant values below).
    tenantRequests: 0,
    tenantModelTokens: 0,
    clusterRequests: options.chunks?.clusterRequests ?? finite(quotaChunk(clusterLimits.requests), 1024),
    clusterModelTokens: options.chunks?.clusterModelTokens ?? finite(quotaChunk(clusterLimits.modelTokens), 0),
  };
  const tenantChunksFor = (budget: TenantBudgetConfig): { requests: number; modelTokens: number; tracksModelTokens: boolean } => {
    const limits = tenantQuotaLimits(budget);
    const requests = options.chunks?.tenantRequests ?? Math.min(
      bucketChunk(budget.requestRate), quotaChunk(limits.requests), quotaChunk(shareLimits.requests),
    );
    const tracksModelTokens = budget.modelTokenRate !== undefined || limits.modelTokens !== undefined || shareLimits.modelTokens !== undefined;
    const modelTokens = !tracksModelTokens ? 0 : options.chunks?.tenantModelTokens ?? finite(Math.min(
      budget.modelTokenRate === undefined ? Number.POSITIVE_INFINITY : bucketChunk(budget.modelTokenRate),
      quotaChunk(limits.modelTokens), quotaChunk(shareLimits.modelTokens),
    ), 0);
    return { requests: positive(requests, 'chunks.tenantRequests'), modelTokens, tracksModelTokens };
  };
  const defaultTenantChunks = typeof options.tenantBudget === 'function' ? undefined : tenantChunksFor(budgetOf(''));
  chunks.tenantRequests = defaultTenantChunks?.requests ?? options.chunks?.tenantRequests ?? 0;
  chunks.tenantModelTokens = defaultTenantChunks?.modelTokens ?? options.chunks?.tenantModelTokens ?? 0;
  positive(chunks.global, 'chunks.global');
  positive(chunks.agent, 'chunks.agent');

  const onRefillError = (e: unknown): { refusal: LimitRefusal; cacheUntilMs: number | undefined } => {
    counters.storeFailures += 1;
    const code = isKarsError(e) ? e.code : 'INTERNAL';
    logger.warn('edge-limiter.fail-closed', { code, reason: isKarsError(e) ? 'store' : 'document' });
    const now = nowMs();
    return { refusal: { kind: 'rate', scope: 'global', retryAtMs: now + unavailableRetryAfterMs }, cacheUntilMs: now + unavailableRetryAfterMs };
  };
  const pool = (o: Omit<LeasePoolOptions, 'nowMs' | 'onRefillError' | 'abortedRetryAfterMs'>): LeasePool =>
    new LeasePool({ ...o, nowMs, onRefillError, abortedRetryAfterMs: unavailableRetryAfterMs });
  const grantCap = (chunk: number): number => Math.max(chunk, chunk * MAX_GRANT_FACTOR);

  const globalPool = pool({
    chunk: { requests: chunks.global, modelTokens: 0 },
    maxGrant: { requests: grantCap(chunks.global), modelTokens: 0 },
    returnsUnused: false,
    tracksModelTokens: false,
    refill: bucketRefill(ctx, limitDocumentKey(prefix, 'global'), global, 'global'),
  });
  const tracksClusterTokens = clusterLimits.modelTokens !== undefined;
  const clusterPool = clusterLimits.requests === undefined && clusterLimits.modelTokens === undefined ? undefined : pool({
    chunk: { requests: chunks.clusterRequests, modelTokens: chunks.clusterModelTokens },
    maxGrant: { requests: grantCap(chunks.clusterRequests), modelTokens: grantCap(chunks.clusterModelTokens) },
    returnsUnused: true,
    tracksModelTokens: tracksClusterTokens,
    refill: clusterRefill(ctx, limitDocumentKey(prefix, 'cluster'), clusterLimits),
  });
  const agentPools = new Map<string, LeasePool>();
  const tenantPools = new Map<string, LeasePool>();

  const agentPool = (agentId: string): LeasePool => lookup(agentPools, agentId, maxEntries, () => pool({
    chunk: { requests: chunks.agent, modelTokens: 0 },
    maxGrant: { requests: grantCap(chunks.agent), modelTokens: 0 },
    returnsUnused: false,
    tracksModelTokens: false,
    refill: bucketRefill(ctx, limitDocumentKey(prefix, 'agent', agentId), agent, 'agent'),
  }));
  const tenantPool = (tenantId: string): LeasePool => lookup(tenantPools, tenantId, maxEntries, () => {
    const budget = budgetOf(tenantId);
    const c = defaultTenantChunks ?? tenantChunksFor(budget);
    return pool({
      chunk: { requests: c.requests, modelTokens: c.modelTokens },
      maxGrant: { requests: grantCap(c.requests), modelTokens: grantCap(c.modelTokens) },
      returnsUnused: true,
      tracksModelTokens: c.tracksModelTokens,
      refill: tenantRefill(ctx, limitDocumentKey(prefix, 'tenant', tenantId), budget, cluster),
    });
  });

  return {
    chunks,
    stats: () => ({ ...counters }),
    async admit(tenantId: string, agentId: string, tokens = 0, callOptions?: EdgeLimiterOptions): Promise<EdgeAdmission> {
      checkId(tenantId, 'tenantId');
      checkId(agentId, 'agentId');
      if (!Number.isSafeInteger(tokens) || tokens < 0) throw new KarsError('INPUT_INVALID', 'tokens must be a non-negative integer');
      // Quota-bearing limits first (a spent quota answers 403 before any rate is consulted), the agent bucket last:
      // with the default chunk of 1 it is the one that costs a write per request, so it is reached only when
      // everything else admits.
      const levels = [
        ...(disabled.has('tenant-budget') ? [] : [tenantPool(tenantId)]),
        ...(clusterPool ? [clusterPool] : []),
        ...(disabled.has('global-limit') ? [] : [globalPool]),
        ...(disabled.has('agent-limit') ? [] : [agentPool(agentId)]),
      ];
      const now = nowMs();
      const remembered = levels.map((l) => l.cachedRefusal(l.needFor(tokens), now)).filter((r): r is LimitRefusal => r !== undefined);
      if (remembered.length > 0) return refuse(remembered, now);
      const taken: Array<{ level: LeasePool; units: Units; grantedAtMs: number }> = [];
      for (const level of levels) {
        const r = await level.acquire(level.needFor(tokens), callOptions?.abortSignal);
        if (!r.ok) {
          for (const t of taken) t.level.release(t.units, t.grantedAtMs);
          return refuse([r.refusal], nowMs());
        }
        taken.push({ level, units: r.units, grantedAtMs: r.grantedAtMs });
      }
      counters.admitted += 1;
      return { outcome: 'allowed' };
    },
  };

  function refuse(refusals: readonly LimitRefusal[], now: number): EdgeAdmission {
    counters.refused += 1;
    return toAdmission(refusals, now);
  }
}

/** A spent quota wins (403: waiting does not help); otherwise the longest wait (the client must wait for all). */
export function toAdmission(refusals: readonly LimitRefusal[], nowMs: number): EdgeAdmission {
  const quota = refusals.find((r) => r.kind === 'quota');
  if (quota !== undefined && quota.kind === 'quota') {
    return quota.resetsAtMs === undefined
      ? { outcome: 'quota-spent', scope: quota.scope }
      : { outcome: 'quota-spent', scope: quota.scope, resetsAtMs: quota.resetsAtMs };
  }
  let longest: { scope: 'global' | 'agent' | 'tenant'; retryAfterMs: number } | undefined;
  for (const r of refusals) {
    if (r.kind !== 'rate') continue;
    const wait = Math.max(1, r.retryAtMs - nowMs);
    if (longest === undefined || wait > longest.retryAfterMs) longest = { scope: r.scope, retryAfterMs: wait };
  }
  if (longest === undefined) throw new TypeError('no refusal to answer');
  return { outcome: 'rate-limited', scope: longest.scope, retryAfterMs: longest.retryAfterMs };
}

function lookup(map: Map<string, LeasePool>, key: string, maxEntries: number, make: () => LeasePool): LeasePool {
  let p = map.get(key);
  if (p !== undefined) {
    map.delete(key);
    map.set(key, p);
    return p;
  }
  p = make();
  map.set(key, p);
  if (map.size > maxEntries) {
    // Least recently used first; a pool with waiters or a refill in flight is kept.
    for (const [k, v] of map) {
      if (map.size <= maxEntries) break;
      if (v.idle && k !== key) map.delete(k);
    }
  }
  return p;
}

function checkId(id: unknown, name: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new KarsError('INPUT_INVALID', `${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`"${name}" expected positive integer`);
  return n;
}

function finite(n: number, fallback: number): number {
  return Number.isFinite(n) ? n : fallback;
}
