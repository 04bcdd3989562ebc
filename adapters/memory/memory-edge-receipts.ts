// In-memory ReceiptSink for unit tests and benchmarks only: keeps receipts in order and counts writes.
import { KarsError, type KarsErrorCode } from '../../core/errors';
import type { RequestReceipt, ReceiptSink } from '../../core/ports/receipt-sink.port';

export interface StoredReceipt extends RequestReceipt {
  readonly receiptId: string;
}

export interface MemoryReceiptSink extends ReceiptSink {
  readonly receipts: StoredReceipt[];
  /** Appends so far (one store write each). */
  readonly writes: number;
  failWith(code: KarsErrorCode | undefined): void;
}

export function createMemoryReceiptSink(): MemoryReceiptSink {
  const receipts: StoredReceipt[] = [];
  let failure: KarsErrorCode | undefined;
  let writes = 0;
  return {
    receipts,
    get writes() {
      return writes;
    },
    failWith(code) {
      failure = code;
    },
    async append(receipt) {
      if (failure !== undefined) throw new KarsError(failure, 'memory receipt sink refused the append');
      writes += 1;
      const receiptId = `rcpt-${String(receipts.length + 1).padStart(8, '0')}`;
      // Receipts are flat: a copy of the record and of its subject is a full copy.
      receipts.push({ ...receipt, subject: { ...receipt.subject }, receiptId });
      return receiptId;
    },
  };
}
