// Where request receipts go (T1-R): the audit chain implements this; the edge only appends.

export interface ReceiptInput {
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
   * Appends the receipt and returns its id once it is durable.
   * @throws KarsError AUDIT_APPEND_CONTENDED | STORE_UNAVAILABLE
   */
  append(receipt: ReceiptInput, options?: ReceiptSinkOptions): Promise<string>;
}
