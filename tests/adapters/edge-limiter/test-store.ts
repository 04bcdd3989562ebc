// Test helper: a DocumentStore wrapper over the memory store that counts calls and can fail, hang, or have another
// writer slip in between a read and a write — the store behaviours the shared limiter must survive.
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { KarsError } from '../../../core/errors';
import type { Clock } from '../../../core/ports/clock.port';
import type {
  DeleteDocumentOptions, DocumentBody, DocumentCallOptions, DocumentPage, DocumentQuery, DocumentStore, QueryDocumentsOptions,
  ReplaceDocumentOptions, VersionedDocument,
} from '../../../core/ports/document-store.port';

export type StoreMode = 'ok' | 'unavailable' | 'hang';

export class TestStore implements DocumentStore {
  readonly inner: MemoryDocumentStore;
  calls = { read: 0, create: 0, replace: 0, upsert: 0, delete: 0, query: 0 };
  mode: StoreMode = 'ok';
  /** Before each of the next N replaces, another writer rewrites the same document (its etag changes). */
  interleavedWrites = 0;

  constructor(clock: Clock) {
    this.inner = new MemoryDocumentStore({ clock });
  }

  /** Successful creates, replaces and upserts (a conditional write refused with 412 changes nothing). */
  writes = 0;

  async read<T extends DocumentBody = DocumentBody>(pk: string, id: string, o?: DocumentCallOptions): Promise<VersionedDocument<T> | undefined> {
    this.calls.read += 1;
    await this.#gate(o);
    return this.inner.read<T>(pk, id, o);
  }

  async create(pk: string, doc: DocumentBody, o?: DocumentCallOptions): Promise<{ etag: string }> {
    this.calls.create += 1;
    await this.#gate(o);
    const r = await this.inner.create(pk, doc, o);
    this.writes += 1;
    return r;
  }

  async replace(pk: string, doc: DocumentBody, o: ReplaceDocumentOptions): Promise<{ etag: string }> {
    this.calls.replace += 1;
    await this.#gate(o);
    if (this.interleavedWrites > 0) {
      this.interleavedWrites -= 1;
      const current = await this.inner.read(pk, doc.id);
      if (current) await this.inner.replace(pk, current.doc, { ifMatch: current.etag });
    }
    const r = await this.inner.replace(pk, doc, o);
    this.writes += 1;
    return r;
  }

  async upsert(pk: string, doc: DocumentBody, o?: DocumentCallOptions): Promise<{ etag: string }> {
    this.calls.upsert += 1;
    await this.#gate(o);
    const r = await this.inner.upsert(pk, doc, o);
    this.writes += 1;
    return r;
  }

  async delete(pk: string, id: string, o?: DeleteDocumentOptions): Promise<boolean> {
    this.calls.delete += 1;
    await this.#gate(o);
    return this.inner.delete(pk, id, o);
  }

  async query<T extends DocumentBody = DocumentBody>(pk: string, q: DocumentQuery, o?: QueryDocumentsOptions): Promise<DocumentPage<T>> {
    this.calls.query += 1;
    await this.#gate(o);
    return this.inner.query<T>(pk, q, o);
  }

  async #gate(o?: DocumentCallOptions): Promise<void> {
    if (this.mode === 'unavailable') throw new KarsError('STORE_UNAVAILABLE', 'test store is down');
    if (this.mode === 'hang') {
      // Never answers, and ignores the abort signal: the limiter's own deadline must fire.
      await new Promise(() => undefined);
    }
    if (o?.abortSignal?.aborted) throw new KarsError('STORE_UNAVAILABLE', 'aborted');
  }
}

export function fakeClock(startMs: number): Clock & { t: number; advance(ms: number): void } {
  const c = {
    t: startMs,
    nowMs: () => c.t,
    advance(ms: number) {
      c.t += ms;
    },
  };
  return c;
}
