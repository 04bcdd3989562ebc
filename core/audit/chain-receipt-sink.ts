// T1-R: the edge's ReceiptSink port backed by the receipt chains (every accepted or rejected request leaves a receipt).
import type { ReceiptLog } from '../ports/receipt-log.port';
import type { RequestReceipt, ReceiptSink, ReceiptSinkOptions } from '../ports/receipt-sink.port';
import type { CanonicalObject } from './canonical-json';

export interface ChainReceiptSinkOptions {
  /**
   * Spread one partition's receipts over every chain by request hash. Default off: with group commit one chain takes
   * a busy tenant's whole rate (an entry per store round trip, up to 256 receipts each), and keeping the tenant on one
   * chain makes its batches larger, so fewer writes per receipt and one order for the tenant.
   */
  spreadOverChains?: boolean;
}

/** Maps an edge receipt onto a chain receipt: the partition (and the request hash) pick the chain; the rest is hashed data. */
export function createChainReceiptSink(log: ReceiptLog, options: ChainReceiptSinkOptions = {}): ReceiptSink {
  const spread = options.spreadOverChains ?? false;
  return {
    async append(receipt: RequestReceipt, callOptions?: ReceiptSinkOptions): Promise<string> {
      const data: CanonicalObject = {
        atMs: receipt.atMs,
        requestHash: receipt.requestHash,
        status: receipt.status,
        subject: { ...receipt.subject },
        ...(receipt.code !== undefined ? { code: receipt.code } : {}),
      };
      // Spread: the request hash as lane, so every receipt of one request (accepted, then a failed enqueue) shares a chain.
      const stored = await log.append(
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
