// Builds the mesh routes' dependencies from the app's shared services (composition helper for functions/routes.ts):
// registry and relay store over their Cosmos containers, the replay store, the mesh limiter over the shared limit
// documents, notifications over the bus, envelope receipts into the audit chain, router tokens against the OIDC issuer.
import { createDocumentReplayGuard } from '../../adapters/edge/document-replay-guard';
import { createSharedEdgeLimiter } from '../../adapters/edge-limiter/shared-edge-limiter';
import type { CosmosContainerSpec } from '../../adapters/cosmos/cosmos-containers';
import { createBusMeshNotifier } from '../../adapters/mesh/bus-mesh-notifier';
import { MESH_AGENTS_CONTAINER, MESH_INBOX_CONTAINER, MESH_REPLAY_CONTAINER } from '../../adapters/mesh/mesh-containers';
import { createOidcRouterAuthenticator } from '../../adapters/mesh/oidc-router-authenticator';
import { createMeshRegistry } from '../../core/mesh/registry/mesh-registry';
import { createMeshRelay } from '../../core/mesh/relay/mesh-relay';
import type { Bus } from '../../core/ports/bus.port';
import { systemClock } from '../../core/ports/clock.port';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import type { RouterAuthenticator } from '../../core/ports/router-authenticator.port';
import { systemSleep } from '../../core/ports/sleep.port';
import type { MeshRouteDeps } from './mesh-routes';
import type { MeshSettings } from './mesh-settings';

export interface MeshServices {
  documents(spec: CosmosContainerSpec): Promise<DocumentStore>;
  bus: Bus;
  receipts: ReceiptSink;
  logger: Logger;
  /** The store the shared limiter keeps its buckets in (the `limits` container). */
  limits: DocumentStore;
  maxInstances: number;
}

export async function buildMeshRouteDeps(services: MeshServices, settings: MeshSettings): Promise<MeshRouteDeps> {
  const clock = systemClock;
  const [agents, inbox, replay] = await Promise.all([
    services.documents(MESH_AGENTS_CONTAINER), services.documents(MESH_INBOX_CONTAINER), services.documents(MESH_REPLAY_CONTAINER),
  ]);
  // The edge limiter's machinery with the registry's figures: agent = the calling router's sandbox (T4-D).
  const registryLimiter = createSharedEdgeLimiter(services.limits, {
    keyPrefix: 'mesh-registry-limit',
    global: settings.registryGlobalRate,
    agent: settings.registryRate,
    tenantBudget: { requestRate: settings.registryGlobalRate },
    cluster: false,
    instances: services.maxInstances,
    logger: services.logger,
  });
  const registry = createMeshRegistry(
    { agents, replay: createDocumentReplayGuard(replay), limiter: registryLimiter, clock, sleep: systemSleep, logger: services.logger },
    { toleranceSec: settings.toleranceSec },
  );
  // The edge limiter's machinery with the mesh's figures: tenant = the mesh, agent = the sender identity.
  const limiter = createSharedEdgeLimiter(services.limits, {
    keyPrefix: 'mesh-limit',
    global: settings.globalRate,
    agent: settings.agentRate,
    tenantBudget: { requestRate: settings.globalRate },
    cluster: false,
    instances: services.maxInstances,
    logger: services.logger,
  });
  const relay = createMeshRelay(
    { inbox, directory: registry, limiter, notifier: createBusMeshNotifier(services.bus, { queue: settings.queue }), receipts: services.receipts, clock, logger: services.logger },
    { meshId: settings.meshId, ttlMs: settings.relayTtlMs, inboxMaxFrames: settings.inboxMaxFrames, inboxMaxBytes: settings.inboxMaxBytes },
  );
  return { registry, relay, authenticator: createMeshAuthenticator(settings), logger: services.logger };
}

/** The router-token authenticator for these settings (T4-S: issuer, audience, service accounts, maximum lifetime). */
export function createMeshAuthenticator(settings: MeshSettings, fetchImpl?: typeof fetch): RouterAuthenticator {
  return createOidcRouterAuthenticator({
    issuer: settings.issuer, jwksUrl: settings.jwksUrl, audience: settings.audience, serviceAccounts: settings.serviceAccounts,
    maxLifetimeSec: settings.routerTokenMaxLifetimeSec,
    ...(fetchImpl ? { fetchImpl } : {}),
  });
}
