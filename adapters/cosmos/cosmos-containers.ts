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
  const requestOptions = { abortSignal: options?.abortSignal };
  const { database } = await createRacing(() => client.databases.createIfNotExists({ id: databaseId }, requestOptions));
  const out = new Map<string, Container>();
  for (const spec of specs) {
    const { container } = await createRacing(() => database.containers.createIfNotExists(
      {
        id: spec.id,
        partitionKey: { paths: [spec.partitionKeyPath ?? DOCUMENT_PARTITION_KEY_PATH] },
        ...(spec.defaultTtlSec !== undefined ? { defaultTtl: spec.defaultTtlSec } : {}),
      },
      requestOptions,
    ));
    out.set(spec.id, container);
  }
  return out;
}

/**
 * createIfNotExists is read-then-create: when several instances cold-start together, the losers of the create get a
 * 409. The resource exists then, so a second attempt reads it.
 */
async function createRacing<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (e) {
      const err = translateCosmosError(e, 'ensure containers');
      if (err.code !== 'STORE_CONFLICT' || attempt >= 3) throw err;
    }
  }
}
