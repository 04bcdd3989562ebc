// The router's durable receipt spool (T2-R, T3-R): receipts wait here, on local disk, until the Functions app has put
// them in the signed chain, so a router crash or an app outage loses none that were spooled.
import type { RequestReceipt } from './receipt-sink.port';

export interface SpooledReceipt {
  /** Increasing per spool, across restarts. */
  readonly seq: number;
  readonly receipt: RequestReceipt;
}

export interface ReceiptSpool {
  /**
   * Resolves once the receipt is on disk (written and flushed).
   * @throws KarsError ROUTER_RECEIPT_SPOOL_FULL when the spool is at its size bound | STORE_UNAVAILABLE (disk error)
   */
  append(receipt: RequestReceipt): Promise<SpooledReceipt>;
  /** The oldest unacknowledged receipts, at most `max`, in seq order (read back from disk when memory overflowed). */
  peek(max: number): Promise<SpooledReceipt[]>;
  /** Marks every receipt up to and including `seq` shipped (durably, before it resolves). */
  ack(seq: number): Promise<void>;
  /** Receipts spooled and not yet acknowledged. */
  readonly pending: number;
  close(): Promise<void>;
}
