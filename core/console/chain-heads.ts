// Each receipt chain's head and its latest signed checkpoint, for the console's audit view (T1-R). Read as stored:
// the verify action (core/audit/verify-chain.ts) is what checks them.
import type { ReceiptStore } from '../ports/receipt-store.port';

export interface ChainHead {
  chain: string;
  /** The newest entry, or null for a chain without entries. */
  head: { seq: number; hash: string; timeMs: number; size: number } | null;
  checkpoint: { seq: number; timeMs: number; keyId: string } | null;
}

export async function readChainHeads(store: ReceiptStore, chains: readonly string[], abortSignal?: AbortSignal): Promise<ChainHead[]> {
  const call = abortSignal ? { abortSignal } : {};
  return Promise.all(chains.map(async (chain): Promise<ChainHead> => {
    const last = await store.readLastEntry(chain, call);
    // Checkpoints come ascending and there is one per `checkpointEvery` entries: the last one read is the latest.
    let checkpoint: ChainHead['checkpoint'] = null;
    for await (const cp of store.listCheckpoints(chain, call)) {
      checkpoint = { seq: num(cp.body['seq']), timeMs: num(cp.body['timeMs']), keyId: str(cp.body['keyId']) };
    }
    const head = last
      ? { seq: num(last.body['seq']), hash: str(last.body['hash']), timeMs: num(last.body['timeMs']), size: num(last.body['size'] ?? 1) }
      : null;
    return { chain, head, checkpoint };
  }));
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
