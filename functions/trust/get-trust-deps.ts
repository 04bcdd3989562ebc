// The trust dependencies of this process, from its services (Cosmos containers and the receipt appender are
// memoised there; this only assembles them).
import { createChainReceiptSink } from '../../core/audit/chain-receipt-sink';
import { systemClock } from '../../core/ports/clock.port';
import { TRUST_CONTAINER, TRUST_REPLAY_CONTAINER } from '../../adapters/trust/trust-containers';
import { getServices } from '../services';
import { buildTrustDeps } from './build-trust-deps';
import type { TrustRouteDeps } from './trust-route-deps';

export async function getTrustDeps(): Promise<TrustRouteDeps> {
  const s = await getServices();
  const [trustDocuments, replayDocuments, appender] = await Promise.all([
    s.documents(TRUST_CONTAINER), s.documents(TRUST_REPLAY_CONTAINER), s.receipts(),
  ]);
  return buildTrustDeps({
    trustDocuments, replayDocuments, bus: s.bus, receipts: createChainReceiptSink(appender), clock: systemClock, logger: s.logger,
  });
}
