// Reads the newest entries of each receipt chain, never a whole chain: the console's traffic view is one bounded page
// (at most `maxEntriesPerChain` entries a chain, each ≤ 256 receipts), and says which chains hold older entries than it read.
import type { ReceiptStore, StoredRecord } from '../ports/receipt-store.port';

export interface RecentEntriesPage {
  entries: StoredRecord[];
  /** Chains whose oldest entry read is newer than `sinceMs` while older entries exist: the window is not complete. */
  truncated: string[];
}

export interface ReadRecentEntriesOptions {
  /** The window's start: entries whose time is at or after it are what the caller needs. */
  sinceMs: number;
  maxEntriesPerChain: number;
  abortSignal?: AbortSignal;
}

export async function readRecentEntries(store: ReceiptStore, chains: readonly string[], options: ReadRecentEntriesOptions): Promise<RecentEntriesPage> {
  const call = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const pages = await Promise.all(chains.map(async (chain) => {
    const last = await store.readLastEntry(chain, call);
    const lastSeq = last ? Number(last.body['seq']) : 0;
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 1) return { chain, entries: [] as StoredRecord[], truncated: false };
    const afterSeq = Math.max(0, lastSeq - options.maxEntriesPerChain);
    const entries: StoredRecord[] = [];
    for await (const record of store.listEntries(chain, { ...call, afterSeq, pageSize: Math.min(100, options.maxEntriesPerChain) })) {
      entries.push(record);
      if (entries.length >= options.maxEntriesPerChain) break;
    }
    const oldest = Number(entries[0]?.body['timeMs']);
    return { chain, entries, truncated: afterSeq > 0 && Number.isFinite(oldest) && oldest > options.sinceMs };
  }));
  return { entries: pages.flatMap((p) => p.entries), truncated: pages.filter((p) => p.truncated).map((p) => p.chain) };
}
