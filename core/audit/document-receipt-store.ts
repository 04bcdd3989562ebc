// ReceiptStore over any DocumentStore: partition = chain; entry ids `<chain>:<seq>` make the store itself refuse forks.
import { isKarsError } from '../errors';
import type { DocumentBody, DocumentStore } from '../ports/document-store.port';
import type {
  HeadHint, ListRecordsOptions, ReceiptStore, ReceiptStoreCallOptions, StoredRecord,
} from '../ports/receipt-store.port';
import type { Checkpoint } from './checkpoint';
import type { ChainEntry, LegacyReceipt } from './receipt';
import { assertChainName, entryId, isHex64 } from './receipt';

/** Partition of the chain registry; `~` cannot start a chain name, so it never collides with a chain. */
export const CHAIN_REGISTRY_PARTITION = '~chains';
/** Entries keep the docType `receipt` they had when each held one receipt: one id space and one listing for both versions. */
export const DOC_TYPE = { receipt: 'receipt', checkpoint: 'checkpoint', head: 'head', chain: 'chain' } as const;

const DEFAULT_PAGE_SIZE = 200;

export class DocumentReceiptStore implements ReceiptStore {
  readonly #docs: DocumentStore;

  constructor(documents: DocumentStore) {
    this.#docs = documents;
  }

  async createEntry(entry: ChainEntry | LegacyReceipt, options?: ReceiptStoreCallOptions): Promise<void> {
    assertChainName(entry.chain);
    await this.#docs.create(entry.chain, { ...entry, docType: DOC_TYPE.receipt }, options);
  }

  async readEntry(chain: string, seq: number, options?: ReceiptStoreCallOptions): Promise<StoredRecord | undefined> {
    assertChainName(chain);
    const found = await this.#docs.read(chain, entryId(chain, seq), options);
    return found ? toRecord(found.doc) : undefined;
  }

  async readLastEntry(chain: string, options?: ReceiptStoreCallOptions): Promise<StoredRecord | undefined> {
    assertChainName(chain);
    const page = await this.#docs.query(chain, {
      where: [{ field: 'docType', op: '=', value: DOC_TYPE.receipt }],
      orderBy: { field: 'id', direction: 'desc' },
      top: 1,
    }, { pageSize: 1, ...(options?.abortSignal ? { abortSignal: options.abortSignal } : {}) });
    const first = page.items[0];
    return first ? toRecord(first.doc) : undefined;
  }

  listEntries(chain: string, options?: ListRecordsOptions): AsyncIterable<StoredRecord> {
    assertChainName(chain);
    const afterSeq = options?.afterSeq ?? 0;
    return this.#pages(chain, DOC_TYPE.receipt, afterSeq > 0 ? entryId(chain, afterSeq) : undefined, options);
  }

  async readHeadHint(chain: string, options?: ReceiptStoreCallOptions): Promise<{ hint: HeadHint; etag: string } | undefined> {
    assertChainName(chain);
    const found = await this.#docs.read(chain, headId(chain), options);
    if (!found) return undefined;
    const { seq, hash } = found.doc as { seq?: unknown; hash?: unknown };
    // A malformed hint is only a hint: ignore it rather than fail appends.
    if (!Number.isSafeInteger(seq) || (seq as number) < 0 || !isHex64(hash)) return undefined;
    return { hint: { chain, seq: seq as number, hash }, etag: found.etag };
  }

  async writeHeadHint(hint: HeadHint, options?: ReceiptStoreCallOptions & { ifMatch?: string }): Promise<string> {
    assertChainName(hint.chain);
    const doc: DocumentBody = { id: headId(hint.chain), docType: DOC_TYPE.head, chain: hint.chain, seq: hint.seq, hash: hint.hash };
    const call = options?.abortSignal ? { abortSignal: options.abortSignal } : {};
    if (options?.ifMatch === undefined) return (await this.#docs.create(hint.chain, doc, call)).etag;
    return (await this.#docs.replace(hint.chain, doc, { ...call, ifMatch: options.ifMatch })).etag;
  }

  async createCheckpoint(checkpoint: Checkpoint, options?: ReceiptStoreCallOptions): Promise<void> {
    assertChainName(checkpoint.chain);
    await this.#docs.create(checkpoint.chain, { ...checkpoint, docType: DOC_TYPE.checkpoint }, options);
  }

  listCheckpoints(chain: string, options?: ReceiptStoreCallOptions): AsyncIterable<StoredRecord> {
    assertChainName(chain);
    return this.#pages(chain, DOC_TYPE.checkpoint, undefined, options);
  }

  async registerChain(chain: string, options?: ReceiptStoreCallOptions): Promise<void> {
    assertChainName(chain);
    try {
      await this.#docs.create(CHAIN_REGISTRY_PARTITION, { id: chain, docType: DOC_TYPE.chain }, options);
    } catch (e) {
      if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) throw e;
    }
  }

  async listChains(options?: ReceiptStoreCallOptions): Promise<string[]> {
    const out: string[] = [];
    for await (const rec of this.#pages(CHAIN_REGISTRY_PARTITION, DOC_TYPE.chain, undefined, options)) out.push(rec.id);
    return out;
  }

  async *#pages(
    partition: string, docType: string, afterId: string | undefined, options?: ListRecordsOptions,
  ): AsyncGenerator<StoredRecord> {
    let continuationToken: string | undefined;
    do {
      const page = await this.#docs.query(partition, {
        where: [
          { field: 'docType', op: '=', value: docType },
          ...(afterId !== undefined ? [{ field: 'id', op: '>' as const, value: afterId }] : []),
        ],
        orderBy: { field: 'id', direction: 'asc' },
      }, {
        pageSize: options?.pageSize ?? DEFAULT_PAGE_SIZE,
        ...(continuationToken !== undefined ? { continuationToken } : {}),
        ...(options?.abortSignal ? { abortSignal: options.abortSignal } : {}),
      });
      for (const item of page.items) yield toRecord(item.doc);
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined);
  }
}

function headId(chain: string): string {
  return `${chain}:head`;
}

function toRecord(doc: DocumentBody): StoredRecord {
  return { id: doc.id, body: doc as Record<string, unknown> };
}
