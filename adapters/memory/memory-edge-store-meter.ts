// Counts the calls a DocumentStore receives, for the edge benchmark (store writes per accepted webhook) and for DoS
// tests (reads per flood of unknown hook ids). Tests and benchmarks only; it adds nothing to the store's behaviour.
import type { DocumentStore } from '../../core/ports/document-store.port';

export interface StoreCallCounts {
  reads: number;
  writes: number;
  queries: number;
}

export interface MeteredDocumentStore extends DocumentStore {
  readonly counts: StoreCallCounts;
  reset(): void;
}

export function meterDocumentStore(inner: DocumentStore): MeteredDocumentStore {
  const counts: StoreCallCounts = { reads: 0, writes: 0, queries: 0 };
  return {
    counts,
    reset() {
      counts.reads = 0;
      counts.writes = 0;
      counts.queries = 0;
    },
    read(partitionKey, id, options) {
      counts.reads += 1;
      return inner.read(partitionKey, id, options);
    },
    create(partitionKey, doc, options) {
      counts.writes += 1;
      return inner.create(partitionKey, doc, options);
    },
    replace(partitionKey, doc, options) {
      counts.writes += 1;
      return inner.replace(partitionKey, doc, options);
    },
    upsert(partitionKey, doc, options) {
      counts.writes += 1;
      return inner.upsert(partitionKey, doc, options);
    },
    delete(partitionKey, id, options) {
      counts.writes += 1;
      return inner.delete(partitionKey, id, options);
    },
    query(partitionKey, query, options) {
      counts.queries += 1;
      return inner.query(partitionKey, query, options);
    },
  };
}
