// Receipts of a router with no audit store configured (T2-R, T3-R, T3-S): each one becomes a `router.receipt` JSON log
// line (kind, code, status, the receipt hash as `receiptId`), which the node's log pipeline ships. Not the signed
// hash chain of core/audit: a router that is given a chain sink (ReceiptSink port) appends there instead.
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';

export function logReceiptSink(logger: Logger): ReceiptSink {
  return {
    async append(receipt) {
      logger.info('router.receipt', {
        name: receipt.kind, sandboxId: receipt.partition, status: receipt.status, code: receipt.code,
        receiptId: receipt.requestHash, state: receipt.outcome,
      });
      return receipt.requestHash;
    },
  };
}
