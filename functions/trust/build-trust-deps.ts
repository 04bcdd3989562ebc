// Wires the trust plane's ports to their adapters: Cosmos documents (projection, issuers, nonce claims), the
// Service Bus queue and the audit chain. Plain arguments, so the route table and the integration tests share it.
import type { Bus } from '../../core/ports/bus.port';
import type { Clock } from '../../core/ports/clock.port';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import { resolveTrustPolicy, type TrustMitigation, type TrustPolicy } from '../../core/trust/trust-policy';
import { createDocumentReplayGuard } from '../../adapters/edge/document-replay-guard';
import { createBusTrustUpdateQueue } from '../../adapters/trust/bus-trust-update-queue';
import { createDocumentTrustGraphStore } from '../../adapters/trust/document-trust-graph-store';
import { createDocumentTrustIssuerRegistry } from '../../adapters/trust/document-trust-issuer-registry';
import type { TrustRouteDeps } from './trust-route-deps';

export interface TrustParts {
  /** The `trust` container (projection and issuer documents, partition = tenant). */
  readonly trustDocuments: DocumentStore;
  /** The `trust-replay` container (nonce claims, item TTL on). */
  readonly replayDocuments: DocumentStore;
  readonly bus: Bus;
  readonly receipts: ReceiptSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly queue?: string;
  readonly policy?: TrustPolicy;
  /** TEST ONLY. */
  readonly _disable?: readonly TrustMitigation[];
}

export function buildTrustDeps(parts: TrustParts): TrustRouteDeps {
  const policy = parts.policy ?? resolveTrustPolicy(parts._disable ? { _disable: parts._disable } : {});
  const issuers = createDocumentTrustIssuerRegistry(parts.trustDocuments);
  const graphs = createDocumentTrustGraphStore(parts.trustDocuments);
  return {
    admit: {
      issuers,
      replay: createDocumentReplayGuard(parts.replayDocuments),
      queue: createBusTrustUpdateQueue(parts.bus, parts.queue),
      receipts: parts.receipts,
      clock: parts.clock,
    },
    apply: { store: graphs, issuers, receipts: parts.receipts, clock: parts.clock, policy },
    graphs,
    setIssuers: (tenantId, keys) => issuers.setIssuers(tenantId, keys),
    policy,
    clock: parts.clock,
    logger: parts.logger,
    ...(parts._disable ? { _disable: parts._disable } : {}),
  };
}
