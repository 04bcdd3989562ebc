// T1-R: the edge's ReceiptSink port backed by the receipt chains (every accepted or rejected request leaves a receipt).
import type { ReceiptInput as EdgeReceipt, ReceiptSink, ReceiptSinkOptions } from '../ports/receipt-sink.port';
import type { ReceiptAppender } from './append-receipt';
import type { CanonicalObject } from './canonical-json';

export interface ChainReceiptSinkOptions {
  /**
   * Spread one partition's receipts over every chain by request hash (default true), so one busy tenant is not held to
   * one chain's rate (an append per store round trip). Off: each partition stays on one chain, in one order.
   */
  spreadOverChains?: boolean;
}

/** Maps an edge receipt onto a chain receipt: the partition (and the request hash) pick the chain; the rest is hashed data. */
export function createChainReceiptSink(appender: ReceiptAppender, options: ChainReceiptSinkOptions = {}): ReceiptSink {
  const spread = options.spreadOverChains ?? true;
  return {
    async append(receipt: EdgeReceipt, callOptions?: ReceiptSinkOptions): Promise<string> {
      const data: CanonicalObject = {
        atMs: receipt.atMs,
        requestHash: receipt.requestHash,
        status: receipt.status,
        subject: { ...receipt.subject },
        ...(receipt.code !== undefined ? { code: receipt.code } : {}),
      };
      // The request hash as lane: every receipt of one request (accepted, then a failed enqueue) lands on one chain.
      const stored = await appender.append(
        { subject: receipt.partition, kind: receipt.kind, outcome: receipt.outcome, data },
        {
          ...(callOptions?.abortSignal ? { abortSignal: callOptions.abortSignal } : {}),
          ...(spread ? { laneKey: receipt.requestHash } : {}),
        },
      );
      return stored.id;
    },
  };
}
