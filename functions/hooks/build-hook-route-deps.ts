// Builds the hook routes' dependencies from the app's shared services (composition helper for functions/routes.ts):
// registry and replay guard over their Cosmos containers, the queue over the bus, receipts into the audit chain.
import { createBusEdgeQueue } from '../../adapters/edge/bus-edge-queue';
import { createDocumentHookRegistry } from '../../adapters/edge/document-hook-registry';
import { createDocumentReplayGuard } from '../../adapters/edge/document-replay-guard';
import { EDGE_REPLAY_CONTAINER, HOOKS_CONTAINER } from '../../adapters/edge/edge-containers';
import type { CosmosContainerSpec } from '../../adapters/cosmos/cosmos-containers';
import type { Bus } from '../../core/ports/bus.port';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { EdgeLimiter } from '../../core/ports/edge-limiter.port';
import type { HookRegistry } from '../../core/ports/hook-registry.port';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import type { SecretSource } from '../../core/ports/secret-source.port';
import type { EdgeSettings } from './edge-settings';
import type { HookRouteDeps } from './hook-routes';

export interface HookServices {
  documents(spec: CosmosContainerSpec): Promise<DocumentStore>;
  secrets: SecretSource;
  bus: Bus;
  /** The audit chain's sink (core/audit/chain-receipt-sink.ts over the process's ReceiptAppender). */
  receipts: ReceiptSink;
  /** The shared (cross-instance) limiter in Azure; the in-process one is enough for a single local host. */
  limiter: EdgeLimiter;
  logger: Logger;
  clock?: Clock;
  /**
   * Largest number of Function instances (KARS_LIMIT_MAX_INSTANCES, the Bicep's maximumInstanceCount, the same count
   * the shared limiter is sized with): each instance takes this share of the deployment-wide pre-auth budgets. Default 1.
   */
  maxInstances?: number;
  /** Run over the registry before the routes serve (the local host seeds its DEV-ONLY demo hooks); none in Azure. */
  prepareHookRegistry?: (registry: HookRegistry) => Promise<void>;
}

export async function buildHookRouteDeps(services: HookServices, settings: EdgeSettings): Promise<HookRouteDeps> {
  const clock = services.clock ?? systemClock;
  const [hookStore, replayStore] = await Promise.all([services.documents(HOOKS_CONTAINER), services.documents(EDGE_REPLAY_CONTAINER)]);
  const registry = createDocumentHookRegistry(hookStore, services.secrets, { clock, cacheTtlMs: settings.hookCacheTtlMs });
  await services.prepareHookRegistry?.(registry);
  return {
    registry,
    replayGuard: createDocumentReplayGuard(replayStore),
    limiter: services.limiter,
    queue: createBusEdgeQueue(services.bus),
    receipts: services.receipts,
    clock,
    logger: services.logger,
    pipelineOptions: {
      maxBodyBytes: settings.maxBodyBytes,
      toleranceSec: settings.toleranceSec,
      untimedReplayRetentionSec: settings.untimedReplayRetentionSec,
      untimedReplayRetentionSecByChannel: { github: settings.githubReplayRetentionSec },
      preAuthGuard: { perHook: settings.preAuthPerHook, global: settings.preAuthGlobal, instances: services.maxInstances ?? 1 },
    },
  };
}
