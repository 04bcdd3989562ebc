// Where receipt chains live: one partition per chain holding its entries (batches of receipts), checkpoints and head hint.
import type { Checkpoint } from '../audit/checkpoint';
import type { ChainEntry, LegacyReceipt } from '../audit/receipt';

/**
 * A record exactly as stored. The verifier treats `body` as untrusted input: anyone with write access to the store
 * may have edited it.
 */
export interface StoredRecord {
  id: string;
  body: Record<string, unknown>;
}

/** Unsigned, opportunistically updated pointer near the chain tip; saves a query when a writer (re)starts. */
export interface HeadHint {
  chain: string;
  seq: number;
  hash: string;
}

export interface ReceiptStoreCallOptions {
  abortSignal?: AbortSignal;
}

export interface ListRecordsOptions extends ReceiptStoreCallOptions {
  /** Start after this seq (0 = from the beginning). */
  afterSeq?: number;
  pageSize?: number;
}

export interface ReceiptStore {
  /**
   * One write per entry, whatever its receipt count (a version 1 entry only in migration fixtures).
   * @throws KarsError STORE_CONFLICT when the chain already holds this seq (someone else appended first) | STORE_UNAVAILABLE
   */
  createEntry(entry: ChainEntry | LegacyReceipt, options?: ReceiptStoreCallOptions): Promise<void>;
  /** @throws KarsError STORE_UNAVAILABLE */
  readEntry(chain: string, seq: number, options?: ReceiptStoreCallOptions): Promise<StoredRecord | undefined>;
  /** The entry with the highest id, by query: authoritative but costlier than the hint. @throws KarsError STORE_UNAVAILABLE */
  readLastEntry(chain: string, options?: ReceiptStoreCallOptions): Promise<StoredRecord | undefined>;
  /** Entries in ascending id (= seq) order. @throws KarsError STORE_UNAVAILABLE */
  listEntries(chain: string, options?: ListRecordsOptions): AsyncIterable<StoredRecord>;

  /** @throws KarsError STORE_UNAVAILABLE */
  readHeadHint(chain: string, options?: ReceiptStoreCallOptions): Promise<{ hint: HeadHint; etag: string } | undefined>;
  /**
   * Without ifMatch: create (STORE_CONFLICT if one exists). With ifMatch: replace (STORE_PRECONDITION_FAILED if stale).
   * @returns the new etag
   */
  writeHeadHint(hint: HeadHint, options?: ReceiptStoreCallOptions & { ifMatch?: string }): Promise<string>;

  /** @throws KarsError STORE_CONFLICT (a checkpoint for this seq exists) | STORE_UNAVAILABLE */
  createCheckpoint(checkpoint: Checkpoint, options?: ReceiptStoreCallOptions): Promise<void>;
  /** Checkpoints in ascending seq order. @throws KarsError STORE_UNAVAILABLE */
  listCheckpoints(chain: string, options?: ReceiptStoreCallOptions): AsyncIterable<StoredRecord>;

  /** Records that a chain exists (idempotent). @throws KarsError STORE_UNAVAILABLE */
  registerChain(chain: string, options?: ReceiptStoreCallOptions): Promise<void>;
  /** Chains ever registered. @throws KarsError STORE_UNAVAILABLE */
  listChains(options?: ReceiptStoreCallOptions): Promise<string[]>;
}
