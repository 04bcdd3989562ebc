// Composes the router's receipt path to the signed chain (T2-R, T3-R): the durable file spool, the HTTP transport to
// the Functions app and the shipper loop. The returned shipper is the router's ReceiptSink.
import type { Logger } from '../../../core/ports/logger.port';
import { systemSleep } from '../../../core/ports/sleep.port';
import { createReceiptShipper, type ReceiptShipper } from '../../../core/router/audit/receipt-shipper';
import type { RouterConfig } from '../router-config';
import { openFileReceiptSpool } from './file-receipt-spool';
import { createHttpReceiptTransport } from './http-receipt-transport';

export async function startReceiptShipping(audit: NonNullable<RouterConfig['audit']>, logger: Logger, fetchImpl?: typeof fetch): Promise<ReceiptShipper> {
  const spool = await openFileReceiptSpool({ dir: audit.spoolDir, maxBytes: audit.spoolMaxBytes, maxBuffered: audit.maxBuffered, logger });
  const transport = createHttpReceiptTransport({ baseUrl: audit.url, tokenFile: audit.tokenFile, ...(fetchImpl ? { fetchImpl } : {}) });
  const shipper = createReceiptShipper(
    { spool, transport, sleep: systemSleep, logger, random: Math.random },
    { maxBatch: audit.batchSize, maxDelayMs: audit.batchDelayMs },
  );
  shipper.start();
  return {
    append: (r, o) => shipper.append(r, o),
    start: () => shipper.start(),
    async stop(graceMs) {
      await shipper.stop(graceMs);
      await spool.close();
    },
  };
}
