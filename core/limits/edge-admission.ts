// The edge's admission decision (T1-D) over the three limits of issue 3 — global bucket (500 rps, burst 1000),
// per-agent bucket (50 rps, burst 100), per-tenant budget — as one pure, all-or-nothing function. An EdgeLimiter
// adapter reads the three states, calls this, and writes back only `next` (with ETag compare-and-swap).
import type { EdgeAdmission } from '../ports/edge-limiter.port';
import { chargeTenantBudget, type TenantBudgetConfig, type TenantBudgetState } from './tenant-budget';
import { perSecond, takeTokens, type TokenBucketConfig, type TokenBucketState } from './token-bucket';

export interface EdgeLimitsConfig {
  readonly global: TokenBucketConfig;
  readonly agent: TokenBucketConfig;
  readonly tenant: TenantBudgetConfig;
}

/**
 * The limits a test can switch off in the shared limiter (adapters/edge-limiter/shared-edge-limiter.ts) to show that
 * the flood it binds in is then admitted. Only reachable through `SharedEdgeLimiterOptions._disable`, which no
 * configuration loader sets. `tenant-budget` also drops the tenant's share of the cluster budget (counted in the
 * tenant's document); `cluster-budget` drops the cluster total and every share.
 */
export const LIMIT_MITIGATIONS = ['global-limit', 'agent-limit', 'tenant-budget', 'cluster-budget'] as const;
export type LimitMitigation = (typeof LIMIT_MITIGATIONS)[number];

/** T1-D's numbers for the two buckets (500 rps global, 50 rps per agent; bursts of 2 s); the tenant budget has no
 * threat-model figure and comes from configuration. */
export const DEFAULT_GLOBAL_LIMIT: TokenBucketConfig = perSecond(500, 1000);
export const DEFAULT_AGENT_LIMIT: TokenBucketConfig = perSecond(50, 100);

export interface EdgeLimitStates {
  readonly global?: TokenBucketState;
  readonly agent?: TokenBucketState;
  readonly tenant?: TenantBudgetState;
}

/**
 * Decides one request: a spent tenant quota wins (403, retrying cannot help); otherwise every refusing rate is
 * collected and the longest wait is reported (the client must wait for all of them); otherwise all three are charged.
 * @param states stored states (undefined members start full)
 * @param nowMs `clock.nowMs()`
 * @param modelTokens model tokens to reserve for the tenant (0 at the webhook edge unless estimated)
 * @returns the port's EdgeAdmission and the states to write: all three when allowed, none when refused
 * @example decideEdgeAdmission({ global: g, agent: a, tenant: t }, clock.nowMs(), 0, config)
 */
export function decideEdgeAdmission(
  states: EdgeLimitStates,
  nowMs: number,
  modelTokens: number,
  config: EdgeLimitsConfig,
): { readonly admission: EdgeAdmission; readonly next: EdgeLimitStates } {
  const tenant = chargeTenantBudget(states.tenant, nowMs, { requests: 1, modelTokens }, config.tenant);
  if (!tenant.allowed && tenant.code === 'LIMIT_QUOTA_EXCEEDED') {
    const admission: EdgeAdmission = tenant.resetAtMs === undefined
      ? { outcome: 'quota-spent', scope: tenant.dimension === 'requests' ? 'requests' : 'tokens' }
      : { outcome: 'quota-spent', scope: tenant.dimension === 'requests' ? 'requests' : 'tokens', resetsAtMs: tenant.resetAtMs };
    return { admission, next: {} };
  }
  const global = takeTokens(states.global, nowMs, 1, config.global);
  const agent = takeTokens(states.agent, nowMs, 1, config.agent);
  const waits: Array<{ scope: 'global' | 'agent' | 'tenant'; retryAfterMs: number }> = [];
  if (!global.allowed) waits.push({ scope: 'global', retryAfterMs: global.retryAfterMs });
  if (!agent.allowed) waits.push({ scope: 'agent', retryAfterMs: agent.retryAfterMs });
  if (!tenant.allowed) waits.push({ scope: 'tenant', retryAfterMs: tenant.retryAfterMs });
  if (waits.length > 0) {
    const longest = waits.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));
    return { admission: { outcome: 'rate-limited', scope: longest.scope, retryAfterMs: longest.retryAfterMs }, next: {} };
  }
  if (!tenant.allowed || !global.allowed || !agent.allowed) throw new Error('unreachable');
  return { admission: { outcome: 'allowed' }, next: { global: global.state, agent: agent.state, tenant: tenant.state } };
}

/** Seconds for a `Retry-After` header: whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
