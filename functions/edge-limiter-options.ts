// The shared edge limiter as the Function app builds it (T1-D, RR3): the KARS_LIMIT_* settings (set by
// bicep/modules/function-app.bicep) for the global and per-agent buckets and the instance count, the adapter's
// defaults for the tenant and cluster budgets. One function, so the T1-D attack tests run what ships.
import type { CosmosContainerSpec } from '../adapters/cosmos/cosmos-containers';
import type { SharedEdgeLimiterOptions } from '../adapters/edge-limiter/shared-edge-limiter';
import type { Logger } from '../core/ports/logger.port';
import type { Config } from './config';

/** Limit documents expire (defaultTtl -1 lets Azure purge them by their item ttl). */
export const LIMITS_CONTAINER: CosmosContainerSpec = { id: 'limits', defaultTtlSec: -1 };

export function sharedEdgeLimiterOptions(limits: Config['limits'], logger: Logger): SharedEdgeLimiterOptions {
  return {
    global: { capacity: limits.globalBurst, refillTokens: limits.globalRps, refillPeriodMs: 1000 },
    agent: { capacity: limits.agentBurst, refillTokens: limits.agentRps, refillPeriodMs: 1000 },
    instances: limits.maxInstances,
    chunks: { agent: limits.agentLease },
    logger,
  };
}
