// ReceiptStore on the Cosmos `receipts` container: partition key = chain, so a chain's appends and reads stay in one partition.
import type { Container } from '@azure/cosmos';
import { DocumentReceiptStore } from '../../core/audit/document-receipt-store';
import type { Clock } from '../../core/ports/clock.port';
import type { ReceiptStore } from '../../core/ports/receipt-store.port';
import { CosmosDocumentStore } from './cosmos-document-store';

export interface CosmosReceiptStoreOptions {
  clock?: Clock;
}

/** `container` must be partitioned on /pk (RECEIPTS_CONTAINER via ensureCosmosContainers). */
export function createCosmosReceiptStore(container: Container, options?: CosmosReceiptStoreOptions): ReceiptStore {
  // Receipts never expire, so no item ttl is written.
  return new DocumentReceiptStore(new CosmosDocumentStore(container, { ...(options?.clock ? { clock: options.clock } : {}), setItemTtl: false }));
}
