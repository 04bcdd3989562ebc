// Where the edge's request receipts go (T1-R): the edge only appends. The audit chains implement it
// (core/audit/chain-receipt-sink.ts) over the batched ReceiptLog (core/ports/receipt-log.port.ts), which the router
// and the relay use directly.

/** One inbound request's receipt, as the edge records it. */
export interface RequestReceipt {
  /** Producer and shape, e.g. `edge.webhook`. */
  readonly kind: string;
  /** Chain partition hint (the tenant when known, else the producer): appends need not share one global lock. */
  readonly partition: string;
  readonly atMs: number;
  /** Lower-case hex SHA-256 over the canonical encoding of `subject` (see core/edge/request-hash.ts). */
  readonly requestHash: string;
  readonly outcome: 'accepted' | 'answered' | 'rejected';
  /** HTTP status answered. */
  readonly status: number;
  /** Precise reason (KarsError code) for a rejection: the audit keeps what the 401 body hides. */
  readonly code?: string;
  /** The non-secret fields the hash covers, so a verifier can recompute it. Never secrets, signatures or bodies. */
  readonly subject: Readonly<Record<string, string | null>>;
}

export interface ReceiptSinkOptions {
  abortSignal?: AbortSignal;
}

export interface ReceiptSink {
  /**
   * Appends the receipt and returns its id once the batch holding it is durable (the edge answers only after that).
   * @throws KarsError AUDIT_APPEND_CONTENDED | STORE_UNAVAILABLE
   */
  append(receipt: RequestReceipt, options?: ReceiptSinkOptions): Promise<string>;
}
