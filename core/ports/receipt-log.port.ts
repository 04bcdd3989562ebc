// Where receipts are recorded (T1-R edge, T2-R/T3-R router, T4-R relay): one batched appender per process behind this
// port. A caller hands in one receipt and gets back its id once the batch holding it is durable.
import type { CanonicalObject } from '../audit/canonical-json';

/** One receipt as a producer records it. Never secrets or message content: every auditor reads receipts. */
export interface AuditReceiptInput {
  /** Who or what the receipt is about (tenant, hook, sandbox, DID). Also picks the chain, so one subject stays ordered. */
  subject: string;
  /** What happened, dotted: `edge.webhook`, `router.tool`, `router.model`, `mesh.envelope`. */
  kind: string;
  /** The decision: `accepted`, `rejected`, `allowed`, `denied`, ... */
  outcome: string;
  /** Details as canonical JSON (integers only). */
  data: CanonicalObject;
}

export interface AppendReceiptOptions {
  abortSignal?: AbortSignal;
  /**
   * Spreads one subject's receipts over the layout's chains by this key (the edge passes the request hash), so a busy
   * subject is not held to one chain's rate. Its receipts stay ordered within each chain, not across chains.
   * 1..256 characters.
   */
  laneKey?: string;
}

/** Where a durable receipt sits: entry `seq` of `chain`, leaf `index` of that entry's Merkle tree. */
export interface AppendedReceipt {
  /** `<chain>:<seq, 12 digits>:<index, 3 digits>`; `kars audit prove <id>` proves it. */
  id: string;
  chain: string;
  seq: number;
  index: number;
  /** Receipts in the entry (its tree size). */
  size: number;
  /** RFC 9162 leaf hash of this receipt, hex. */
  leafHash: string;
  /** The entry's Merkle tree head over its receipts, hex. */
  treeHead: string;
  /** The entry's link hash (what the next entry's previousHash and checkpoints name), hex. */
  entryHash: string;
  timeMs: number;
}

export interface ReceiptLog {
  /**
   * Records the receipt in the next batch of its chain and resolves once that batch is stored. An ambiguous store
   * failure (timeout) may leave it written: a retry records it again later (at least once, never a fork).
   * @throws KarsError INPUT_INVALID | AUDIT_APPEND_CONTENDED | AUDIT_CHAIN_BROKEN | STORE_UNAVAILABLE | ABORTED
   */
  append(receipt: AuditReceiptInput, options?: AppendReceiptOptions): Promise<AppendedReceipt>;
}
