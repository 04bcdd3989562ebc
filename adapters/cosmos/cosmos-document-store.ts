// DocumentStore on one Cosmos container partitioned by /pk, using only calls the local server also supports.
import type { Container, ItemDefinition, SqlParameter } from '@azure/cosmos';
import { KarsError } from '../../core/errors';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import {
  assertDocumentBody, assertDocumentId, assertDocumentQuery, assertPartitionKey, isDocumentExpired,
} from '../../core/ports/document-store.port';
import type {
  DeleteDocumentOptions, DocumentBody, DocumentCallOptions, DocumentPage, DocumentQuery, DocumentStore,
  QueryDocumentsOptions, ReplaceDocumentOptions, VersionedDocument,
} from '../../core/ports/document-store.port';
import { translateCosmosError } from './translate-cosmos-error';

export interface CosmosDocumentStoreOptions {
  clock?: Clock;
  /**
   * Also write the Cosmos item `ttl` (seconds) from expiresAtMs so Azure purges expired documents; harmless on the
   * local server, which stores but never enforces it. Needs the container's defaultTtlSec set (-1) to take effect.
   */
  setItemTtl?: boolean;
}

const PK_FIELD = 'pk';
const DEFAULT_PAGE_SIZE = 100;

type RawItem = ItemDefinition & Record<string, unknown>;

export class CosmosDocumentStore implements DocumentStore {
  readonly #container: Container;
  readonly #clock: Clock;
  readonly #setItemTtl: boolean;

  constructor(container: Container, options?: CosmosDocumentStoreOptions) {
    this.#container = container;
    this.#clock = options?.clock ?? systemClock;
    this.#setItemTtl = options?.setItemTtl ?? true;
  }

  async read<T extends DocumentBody = DocumentBody>(
    partitionKey: string, id: string, options?: DocumentCallOptions,
  ): Promise<VersionedDocument<T> | undefined> {
    assertPartitionKey(partitionKey);
    assertDocumentId(id);
    const raw = await this.#readRaw(partitionKey, id, options);
    if (!raw || isDocumentExpired(raw.doc, this.#clock.nowMs())) return undefined;
    return { doc: raw.doc as T, etag: raw.etag };
  }

  async create(partitionKey: string, doc: DocumentBody, options?: DocumentCallOptions): Promise<{ etag: string }> {
    assertPartitionKey(partitionKey);
    assertDocumentBody(doc);
    try {
      const res = await this.#container.items.create(this.#toItem(partitionKey, doc), { abortSignal: options?.abortSignal });
      return { etag: etagOf(res.etag, res.resource) };
    } catch (e) {
      const err = translateCosmosError(e, 'create');
      if (err.code !== 'STORE_CONFLICT') throw err;
    }
    // Duplicate id: an expired document that TTL has not purged yet (never, locally) counts as absent.
    const existing = await this.#readRaw(partitionKey, doc.id, options);
    if (existing && isDocumentExpired(existing.doc, this.#clock.nowMs())) {
      try {
        const res = await this.#container.item(doc.id, partitionKey).replace(this.#toItem(partitionKey, doc), {
          accessCondition: { type: 'IfMatch', condition: existing.etag }, abortSignal: options?.abortSignal,
        });
        return { etag: etagOf(res.etag, res.resource) };
      } catch (e) {
        const err = translateCosmosError(e, 'create');
        if (err.code !== 'STORE_PRECONDITION_FAILED' && err.code !== 'STORE_NOT_FOUND') throw err;
      }
    }
    throw new KarsError('STORE_CONFLICT', 'document already exists');
  }

  async replace(partitionKey: string, doc: DocumentBody, options: ReplaceDocumentOptions): Promise<{ etag: string }> {
    assertPartitionKey(partitionKey);
    assertDocumentBody(doc);
    if (typeof options?.ifMatch !== 'string') throw new KarsError('INPUT_INVALID', 'replace needs ifMatch');
    // Read first so an expired document reads as absent here too, as it does in Azure once TTL has purged it.
    const existing = await this.#readRaw(partitionKey, doc.id, options);
    if (!existing || isDocumentExpired(existing.doc, this.#clock.nowMs())) {
      throw new KarsError('STORE_NOT_FOUND', 'document not found');
    }
    if (existing.etag !== options.ifMatch) throw new KarsError('STORE_PRECONDITION_FAILED', 'document changed since it was read');
    try {
      const res = await this.#container.item(doc.id, partitionKey).replace(this.#toItem(partitionKey, doc), {
        accessCondition: { type: 'IfMatch', condition: options.ifMatch }, abortSignal: options.abortSignal,
      });
      return { etag: etagOf(res.etag, res.resource) };
    } catch (e) {
      throw translateCosmosError(e, 'replace');
    }
  }

  async upsert(partitionKey: string, doc: DocumentBody, options?: DocumentCallOptions): Promise<{ etag: string }> {
    assertPartitionKey(partitionKey);
    assertDocumentBody(doc);
    try {
      const res = await this.#container.items.upsert(this.#toItem(partitionKey, doc), { abortSignal: options?.abortSignal });
      return { etag: etagOf(res.etag, res.resource) };
    } catch (e) {
      throw translateCosmosError(e, 'upsert');
    }
  }

  async delete(partitionKey: string, id: string, options?: DeleteDocumentOptions): Promise<boolean> {
    assertPartitionKey(partitionKey);
    assertDocumentId(id);
    try {
      await this.#container.item(id, partitionKey).delete({
        ...(options?.ifMatch !== undefined ? { accessCondition: { type: 'IfMatch', condition: options.ifMatch } } : {}),
        abortSignal: options?.abortSignal,
      });
      return true;
    } catch (e) {
      const err = translateCosmosError(e, 'delete');
      if (err.code === 'STORE_NOT_FOUND') return false;
      throw err;
    }
  }

  async query<T extends DocumentBody = DocumentBody>(
    partitionKey: string, query: DocumentQuery, options?: QueryDocumentsOptions,
  ): Promise<DocumentPage<T>> {
    assertPartitionKey(partitionKey);
    assertDocumentQuery(query, options);
    const spec = buildDocumentQuerySql(partitionKey, query, this.#clock.nowMs());
    try {
      const res = await this.#container.items.query<RawItem>(spec, {
        partitionKey,
        maxItemCount: options?.pageSize ?? DEFAULT_PAGE_SIZE,
        ...(options?.continuationToken !== undefined ? { continuationToken: options.continuationToken } : {}),
        abortSignal: options?.abortSignal,
      }).fetchNext();
      const items = res.resources.map((raw) => ({ doc: fromItem(raw) as T, etag: etagOf(undefined, raw) }));
      return { items, ...(res.continuationToken ? { continuationToken: res.continuationToken } : {}) };
    } catch (e) {
      throw translateCosmosError(e, 'query');
    }
  }

  async #readRaw(partitionKey: string, id: string, options?: DocumentCallOptions): Promise<VersionedDocument | undefined> {
    try {
      const res = await this.#container.item(id, partitionKey).read<RawItem>({ abortSignal: options?.abortSignal });
      if (res.statusCode === 404 || !res.resource) return undefined;
      return { doc: fromItem(res.resource), etag: etagOf(res.etag, res.resource) };
    } catch (e) {
      const err = translateCosmosError(e, 'read');
      if (err.code === 'STORE_NOT_FOUND') return undefined;
      throw err;
    }
  }

  #toItem(partitionKey: string, doc: DocumentBody): RawItem {
    const item: RawItem = { ...doc, [PK_FIELD]: partitionKey };
    if (this.#setItemTtl && typeof doc.expiresAtMs === 'number') {
      item['ttl'] = Math.max(1, Math.ceil((doc.expiresAtMs - this.#clock.nowMs()) / 1000));
    }
    return item;
  }
}

/**
 * The single-partition SQL for a DocumentQuery. Field paths use bracket notation so names that are SQL keywords
 * (value, order, top) still parse; every value is a parameter.
 */
export function buildDocumentQuerySql(
  partitionKey: string, query: DocumentQuery, nowMs: number,
): { query: string; parameters: SqlParameter[] } {
  const parameters: SqlParameter[] = [{ name: '@pk', value: partitionKey }, { name: '@now', value: nowMs }];
  const clauses = [`c["${PK_FIELD}"] = @pk`];
  (query.where ?? []).forEach((f, i) => {
    parameters.push({ name: `@p${i}`, value: f.value });
    clauses.push(`${fieldRef(f.field)} ${f.op} @p${i}`);
  });
  clauses.push('(NOT IS_DEFINED(c["expiresAtMs"]) OR c["expiresAtMs"] > @now)');
  const top = query.top !== undefined ? `TOP ${query.top} ` : '';
  const order = query.orderBy
    ? ` ORDER BY ${fieldRef(query.orderBy.field)} ${query.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}`
    : '';
  return { query: `SELECT ${top}* FROM c WHERE ${clauses.join(' AND ')}${order}`, parameters };
}

// Field paths are validated as plain names by assertDocumentQuery, so quoting cannot be escaped.
function fieldRef(path: string): string {
  return `c${path.split('.').map((p) => `["${p}"]`).join('')}`;
}

function fromItem(raw: Record<string, unknown>): DocumentBody {
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('_') || k === PK_FIELD || k === 'ttl') continue;
    doc[k] = v;
  }
  return doc as DocumentBody;
}

function etagOf(headerEtag: string | undefined, resource: unknown): string {
  const bodyEtag = (resource as { _etag?: unknown } | undefined)?._etag;
  const etag = headerEtag ?? (typeof bodyEtag === 'string' ? bodyEtag : undefined);
  if (!etag) throw new KarsError('STORE_UNAVAILABLE', 'cosmos response carried no etag');
  return etag;
}
