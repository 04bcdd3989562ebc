// Creates the database and containers the app needs (idempotent); every kars container is partitioned on /pk.
import type { Container, CosmosClient } from '@azure/cosmos';
import { translateCosmosError } from './translate-cosmos-error';

/** Partition key path shared by every container the DocumentStore adapter writes. */
export const DOCUMENT_PARTITION_KEY_PATH = '/pk';

export interface CosmosContainerSpec {
  id: string;
  /** Defaults to DOCUMENT_PARTITION_KEY_PATH. */
  partitionKeyPath?: string;
  /**
   * Container default TTL: -1 turns on per-item `ttl` without a default expiry (needed for expiresAtMs purging in
   * Azure); undefined leaves TTL off.
   */
  defaultTtlSec?: number;
}

/** Receipts: one logical partition per chain, no TTL (audit data is never purged by the store). */
export const RECEIPTS_CONTAINER: CosmosContainerSpec = { id: 'receipts' };

export interface EnsureCosmosContainersOptions {
  abortSignal?: AbortSignal;
}

/**
 * createIfNotExists for the database and each container; returns the containers by id.
 * @throws KarsError STORE_UNAVAILABLE
 */
export async function ensureCosmosContainers(
  client: CosmosClient, databaseId: string, specs: readonly CosmosContainerSpec[], options?: EnsureCosmosContainersOptions,
): Promise<Map<string, Container>> {
  try {
    const { database } = await client.databases.createIfNotExists({ id: databaseId }, { abortSignal: options?.abortSignal });
    const out = new Map<string, Container>();
    for (const spec of specs) {
      const { container } = await database.containers.createIfNotExists(
        {
          id: spec.id,
          partitionKey: { paths: [spec.partitionKeyPath ?? DOCUMENT_PARTITION_KEY_PATH] },
          ...(spec.defaultTtlSec !== undefined ? { defaultTtl: spec.defaultTtlSec } : {}),
        },
        { abortSignal: options?.abortSignal },
      );
      out.set(spec.id, container);
    }
    return out;
  } catch (e) {
    throw translateCosmosError(e, 'ensure containers');
  }
}
