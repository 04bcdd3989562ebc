// In-process EdgeLimiter (T1-D): the global bucket, one bucket per agent and one budget per tenant, kept in this
// process's memory and decided by core/limits. Right for one instance and for tests; several Function instances need
// the distributed limiter (shared store), because each of these would admit the full rate on its own.
import { decideEdgeAdmission, DEFAULT_AGENT_LIMIT, DEFAULT_GLOBAL_LIMIT, type EdgeLimitsConfig } from '../../core/limits/edge-admission';
import type { TenantBudgetConfig, TenantBudgetState } from '../../core/limits/tenant-budget';
import type { TokenBucketState } from '../../core/limits/token-bucket';
import { perSecond } from '../../core/limits/token-bucket';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import type { EdgeAdmission, EdgeLimiter } from '../../core/ports/edge-limiter.port';

/** A tenant budget when none is configured: the per-agent figures, no quota. */
export const DEFAULT_TENANT_BUDGET: TenantBudgetConfig = { requestRate: perSecond(50, 100) };

export interface LocalEdgeLimiterOptions {
  /** Default: T1-D's 500 rps burst 1000. */
  global?: EdgeLimitsConfig['global'];
  /** Default: T1-D's 50 rps burst 100. */
  agent?: EdgeLimitsConfig['agent'];
  /** Budget for a tenant; default {@link DEFAULT_TENANT_BUDGET} for every tenant. */
  tenantBudget?: TenantBudgetConfig | ((tenantId: string) => TenantBudgetConfig);
  /** Most agent and tenant states kept; the least recently used go first (a forgotten bucket restarts full). */
  maxEntries?: number;
  clock?: Clock;
}

export function createLocalEdgeLimiter(options: LocalEdgeLimiterOptions = {}): EdgeLimiter {
  const clock = options.clock ?? systemClock;
  const maxEntries = options.maxEntries ?? 10_000;
  const budgetOf = typeof options.tenantBudget === 'function'
    ? options.tenantBudget
    : (() => { const b = options.tenantBudget ?? DEFAULT_TENANT_BUDGET; return () => b; })();
  let global: TokenBucketState | undefined;
  const agents = new Map<string, TokenBucketState>();
  const tenants = new Map<string, TenantBudgetState>();

  const remember = <T>(map: Map<string, T>, key: string, value: T | undefined): void => {
    if (value === undefined) return;
    map.delete(key);
    map.set(key, value);
    while (map.size > maxEntries) map.delete(map.keys().next().value!);
  };

  return {
    async admit(tenantId: string, agentId: string, tokens = 0): Promise<EdgeAdmission> {
      // Synchronous from read to write: no other admit of this process interleaves, so nothing is lost.
      const config: EdgeLimitsConfig = {
        global: options.global ?? DEFAULT_GLOBAL_LIMIT,
        agent: options.agent ?? DEFAULT_AGENT_LIMIT,
        tenant: budgetOf(tenantId),
      };
      const { admission, next } = decideEdgeAdmission(
        { global, agent: agents.get(agentId), tenant: tenants.get(tenantId) },
        clock.nowMs(),
        tokens,
        config,
      );
      if (next.global !== undefined) global = next.global;
      remember(agents, agentId, next.agent);
      remember(tenants, tenantId, next.tenant);
      return admission;
    },
  };
}
