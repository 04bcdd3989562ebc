// T1-R: the edge's ReceiptSink port backed by the receipt chains (every accepted or rejected request leaves a receipt).
import type { ReceiptInput as EdgeReceipt, ReceiptSink, ReceiptSinkOptions } from '../ports/receipt-sink.port';
import type { ReceiptAppender } from './append-receipt';
import type { CanonicalObject } from './canonical-json';

/** Maps an edge receipt onto a chain receipt: the partition picks the chain, everything else is hashed data. */
export function createChainReceiptSink(appender: ReceiptAppender): ReceiptSink {
  return {
    async append(receipt: EdgeReceipt, options?: ReceiptSinkOptions): Promise<string> {
      const data: CanonicalObject = {
        atMs: receipt.atMs,
        requestHash: receipt.requestHash,
        status: receipt.status,
        subject: { ...receipt.subject },
        ...(receipt.code !== undefined ? { code: receipt.code } : {}),
      };
      const stored = await appender.append(
        { subject: receipt.partition, kind: receipt.kind, outcome: receipt.outcome, data },
        options?.abortSignal ? { abortSignal: options.abortSignal } : {},
      );
      return stored.id;
    },
  };
}
