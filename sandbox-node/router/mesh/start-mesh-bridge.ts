// Builds the router bridge from its settings (composition for main.ts): token file → Functions upstream, sandbox key,
// DID binding, registry-published router keys, trust source, then the pending signal (Service Bus session of this
// sandbox, plus the poll). Returns the bridge for the listener and a stop for the drain.
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { createMeshBridge, type MeshBridge } from '../../../core/mesh/bridge/mesh-bridge';
import { loadDidBinding } from '../../../core/mesh/bridge/did-binding';
import { registryRouterKeys } from '../../../core/mesh/bridge/registry-router-keys';
import type { Clock } from '../../../core/ports/clock.port';
import type { Logger } from '../../../core/ports/logger.port';
import type { ReceiptSink } from '../../../core/ports/receipt-sink.port';
import type { TrustScoreSource } from '../../../core/ports/trust-score.port';
import { busMeshPendingSignal } from '../../../adapters/mesh/bus-mesh-pending-signal';
import { httpTrustScoreSource } from '../../../adapters/mesh/http-trust-score-source';
import { createServiceBusBus } from '../../../adapters/service-bus/create-service-bus-bus';
import { fileDidBindingStore } from './file-did-binding-store';
import { createFunctionsMeshUpstream } from './functions-mesh-upstream';
import { ROUTER_TOKEN_HEADER } from '../../../core/mesh/router-auth/verify-router-token';
import type { MeshBridgeConfig } from './mesh-bridge-config';
import { pollPendingSignal } from './poll-pending-signal';
import { routerTokenFile } from './router-token-file';
import { loadSandboxSigner } from './sandbox-key-file';

export interface StartedMeshBridge {
  bridge: MeshBridge;
  stop(): Promise<void>;
}

export async function startMeshBridge(
  config: MeshBridgeConfig,
  ctx: {
    sandboxId: string; tenantId: string; clock: Clock; logger: Logger; receipts: ReceiptSink; credential?: () => TokenCredential;
    /** The router's live trust source (RR2, router-trust-settings.ts) when configured; else the plain HTTP adapter. */
    trust?: TrustScoreSource;
  },
): Promise<StartedMeshBridge> {
  const token = routerTokenFile(config.tokenFile);
  const upstream = createFunctionsMeshUpstream({ baseUrl: config.functionsUrl, token });
  const signer = await loadSandboxSigner(ctx.sandboxId, config.sandboxKeyFile);
  const binding = await loadDidBinding(config.bindingFile ? fileDidBindingStore(config.bindingFile) : undefined, config.agentDid);
  const trust = ctx.trust ?? httpTrustScoreSource({
    baseUrl: config.trustUrl, tenantId: ctx.tenantId,
    headers: async () => ({ [ROUTER_TOKEN_HEADER]: await token.token() }),
  });
  const bridge = createMeshBridge(
    { upstream, binding, signer, peerKeys: registryRouterKeys(upstream, ctx.clock), trust, receipts: ctx.receipts, clock: ctx.clock, logger: ctx.logger, newId: randomUUID },
    { trustThreshold: config.trustThreshold },
  );
  const onPending = (): void => void bridge.pendingNoted();
  const listeners = [pollPendingSignal(config.pollMs).start(onPending)];
  const bus = config.bus === undefined ? undefined
    : 'connectionString' in config.bus ? createServiceBusBus({ connectionString: config.bus.connectionString, sessionWaitMs: 1000 })
      : createServiceBusBus({ fullyQualifiedNamespace: config.bus.namespace, developmentEmulator: config.bus.developmentEmulator, credential: ctx.credential!() });
  if (bus) listeners.push(busMeshPendingSignal(bus, ctx.logger, { sandboxId: ctx.sandboxId, queue: config.queue }).start(onPending));
  ctx.logger.info('mesh.bridge_started', { sandboxId: ctx.sandboxId, reason: bus ? 'bus+poll' : 'poll' });
  return {
    bridge,
    async stop() {
      await Promise.all(listeners.map((l) => l.stop()));
      await bus?.close();
    },
  };
}
