// In-memory ReceiptStore for unit tests and benchmarks: the same DocumentReceiptStore the Cosmos adapter uses.
import { DocumentReceiptStore } from '../../core/audit/document-receipt-store';
import type { Clock } from '../../core/ports/clock.port';
import { MemoryDocumentStore } from './memory-document-store';

export interface MemoryReceiptStore {
  receipts: DocumentReceiptStore;
  /** The documents underneath, for tests that tamper with stored records. */
  documents: MemoryDocumentStore;
}

export function createMemoryReceiptStore(options?: { clock?: Clock }): MemoryReceiptStore {
  const documents = new MemoryDocumentStore(options?.clock ? { clock: options.clock } : {});
  return { receipts: new DocumentReceiptStore(documents), documents };
}
