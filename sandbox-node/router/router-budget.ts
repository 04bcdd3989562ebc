// RR3: the router's token budget over the edge's limit documents: Cosmos when KARS_COSMOS_ENDPOINT is set (account
// key for the loopback stand-in, the workload identity in Azure), else an in-process store (budgets per router only,
// warned at start).
import type { TokenCredential } from '@azure/identity';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { CosmosDocumentStore } from '../../adapters/cosmos/cosmos-document-store';
import { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import { createSharedTokenBudget } from '../../adapters/token-budget/shared-token-budget';
import { DAY_MS } from '../../adapters/token-budget/shared-token-budget';
import type { Clock } from '../../core/ports/clock.port';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { Logger } from '../../core/ports/logger.port';
import type { TokenBudget } from '../../core/ports/token-budget.port';
import { redact } from '../../core/secrets/redacted';
import type { RouterConfig } from './router-config';

export function createRouterBudget(config: Readonly<RouterConfig>, credential: () => TokenCredential, clock: Clock, logger: Logger): TokenBudget {
  let store: DocumentStore;
  if (config.cosmos) {
    const { endpoint, key, database } = config.cosmos;
    const client = createCosmosClient(key === undefined ? { endpoint, credential: credential() } : { endpoint, key: redact(key) });
    store = new CosmosDocumentStore(client.database(database).container('limits'), { clock });
  } else {
    logger.warn('router.budget_local', { sandboxId: config.sandboxId, reason: 'KARS_COSMOS_ENDPOINT unset: token budgets are per router, not shared' });
    store = new MemoryDocumentStore({ clock });
  }
  const b = config.budgets;
  return createSharedTokenBudget(store, {
    sandboxDayTokens: b.sandboxDayTokens,
    sandboxMonthTokens: b.sandboxMonthTokens,
    ...(b.tenantDayTokens === undefined ? {} : { tenantTokenQuota: { limit: b.tenantDayTokens, periodMs: DAY_MS } }),
    cluster: { modelTokenQuota: { limit: b.clusterHourTokens, periodMs: 3_600_000 }, maxTenantShare: b.clusterMaxTenantShare },
    clock, logger,
  });
}
