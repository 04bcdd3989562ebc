// Generic partitioned document store with ETag concurrency: hook registrations, replay records, limits, inboxes, receipts.
// Shaped so every call maps onto what both Azure Cosmos DB and the local @zeit/cosmosdb-server support:
// point reads/writes, If-Match, and parameterized single-partition SELECT ... WHERE ... ORDER BY ... with TOP and
// continuation tokens. No patch, sprocs, batch, change feed, OFFSET/LIMIT, DISTINCT or GROUP BY (docs/cosmos-local-gaps.md).
import { KarsError } from '../errors';

/**
 * A stored document. `id` is unique within its partition. Field names starting with `_` and the names `pk` and `ttl`
 * are reserved for the store.
 */
export interface DocumentBody {
  id: string;
  /**
   * Epoch milliseconds after which reads, queries and replaces treat the document as absent. The local server never
   * deletes it; in Azure the adapter also sets the item `ttl` so the service purges it.
   */
  expiresAtMs?: number;
  [field: string]: unknown;
}

export interface VersionedDocument<T extends DocumentBody = DocumentBody> {
  doc: T;
  /** Opaque version tag; pass it back as `ifMatch` to write only if nobody wrote in between. */
  etag: string;
}

export interface DocumentCallOptions {
  abortSignal?: AbortSignal;
}

export interface ReplaceDocumentOptions extends DocumentCallOptions {
  /** Required: replace only if the stored version still has this etag. */
  ifMatch: string;
}

export interface DeleteDocumentOptions extends DocumentCallOptions {
  ifMatch?: string;
}

export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type FilterValue = string | number | boolean | null;

/** `field` is a dotted path of plain names (`state`, `lease.ownerId`); values are always bound as SQL parameters. */
export interface QueryFilter {
  field: string;
  op: FilterOp;
  value: FilterValue;
}

export interface DocumentQuery {
  /** ANDed together. Comparisons between different JSON types match nothing (Cosmos semantics). */
  where?: QueryFilter[];
  /**
   * One field only (several need a composite index in Cosmos). Documents without the field are left out, as both
   * Cosmos and the local server do. Ties are returned in an unspecified but stable order.
   */
  orderBy?: { field: string; direction?: 'asc' | 'desc' };
  /** Upper bound on the total number of results across all pages (SQL TOP). */
  top?: number;
}

export interface QueryDocumentsOptions extends DocumentCallOptions {
  /** Maximum items per page (Cosmos maxItemCount). */
  pageSize?: number;
  /** Token from a previous page of the same query; opaque. */
  continuationToken?: string;
}

export interface DocumentPage<T extends DocumentBody = DocumentBody> {
  items: VersionedDocument<T>[];
  /** Present when more results may follow. */
  continuationToken?: string;
}

export interface DocumentStore {
  /** @returns undefined when absent or expired. @throws KarsError STORE_UNAVAILABLE */
  read<T extends DocumentBody = DocumentBody>(
    partitionKey: string, id: string, options?: DocumentCallOptions,
  ): Promise<VersionedDocument<T> | undefined>;

  /** Creates; an expired document with the same id counts as absent. @throws KarsError STORE_CONFLICT | STORE_UNAVAILABLE */
  create(partitionKey: string, doc: DocumentBody, options?: DocumentCallOptions): Promise<{ etag: string }>;

  /** @throws KarsError STORE_NOT_FOUND (absent or expired) | STORE_PRECONDITION_FAILED (stale etag) | STORE_UNAVAILABLE */
  replace(partitionKey: string, doc: DocumentBody, options: ReplaceDocumentOptions): Promise<{ etag: string }>;

  /** Last writer wins; use replace with ifMatch when concurrent writers matter. @throws KarsError STORE_UNAVAILABLE */
  upsert(partitionKey: string, doc: DocumentBody, options?: DocumentCallOptions): Promise<{ etag: string }>;

  /**
   * Removes the stored document, expired or not (Azure may already have purged an expired one).
   * @returns whether a document was removed. @throws KarsError STORE_PRECONDITION_FAILED (stale etag) | STORE_UNAVAILABLE
   */
  delete(partitionKey: string, id: string, options?: DeleteDocumentOptions): Promise<boolean>;

  /** One page of a single-partition query; expired documents are never returned. @throws KarsError STORE_UNAVAILABLE */
  query<T extends DocumentBody = DocumentBody>(
    partitionKey: string, query: DocumentQuery, options?: QueryDocumentsOptions,
  ): Promise<DocumentPage<T>>;
}

/** Field names the store owns. */
export const RESERVED_DOCUMENT_FIELDS: readonly string[] = ['pk', 'ttl'];

const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
// Cosmos refuses these characters in ids; refusing them everywhere keeps the memory adapter honest.
const BAD_ID_CHARS = /[/\\?#]/;
const MAX_ID_LENGTH = 255;
const MAX_PAGE_SIZE = 1000;

/** Shared argument checks, so every adapter rejects the same inputs with the same code. @throws KarsError INPUT_INVALID */
export function assertPartitionKey(partitionKey: unknown): asserts partitionKey is string {
  if (typeof partitionKey !== 'string' || partitionKey.length === 0 || partitionKey.length > MAX_ID_LENGTH) {
    throw inputInvalid('partition key must be a non-empty string of at most 255 characters');
  }
}

export function assertDocumentId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || BAD_ID_CHARS.test(id) || id.trim() !== id) {
    throw inputInvalid('document id must be 1..255 characters without / \\ ? # or surrounding spaces');
  }
}

export function assertDocumentBody(doc: unknown): asserts doc is DocumentBody {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw inputInvalid('document must be an object');
  assertDocumentId((doc as { id?: unknown }).id);
  for (const key of Object.keys(doc)) {
    if (key.startsWith('_') || RESERVED_DOCUMENT_FIELDS.includes(key)) {
      throw inputInvalid(`document field "${key}" is reserved for the store`);
    }
  }
  const expiresAtMs = (doc as { expiresAtMs?: unknown }).expiresAtMs;
  if (expiresAtMs !== undefined && !Number.isSafeInteger(expiresAtMs)) {
    throw inputInvalid('expiresAtMs must be an integer number of epoch milliseconds');
  }
}

export function assertDocumentQuery(query: DocumentQuery, options?: QueryDocumentsOptions): void {
  for (const filter of query.where ?? []) {
    assertFieldPath(filter.field);
    if (!['=', '!=', '<', '<=', '>', '>='].includes(filter.op)) throw inputInvalid(`unsupported filter op "${String(filter.op)}"`);
    const t = typeof filter.value;
    if (filter.value !== null && t !== 'string' && t !== 'boolean' && !(t === 'number' && Number.isFinite(filter.value))) {
      throw inputInvalid(`filter value for "${filter.field}" must be a string, finite number, boolean or null`);
    }
  }
  if (query.orderBy) {
    assertFieldPath(query.orderBy.field);
    if (query.orderBy.direction !== undefined && query.orderBy.direction !== 'asc' && query.orderBy.direction !== 'desc') {
      throw inputInvalid('orderBy.direction must be asc or desc');
    }
  }
  if (query.top !== undefined && !(Number.isSafeInteger(query.top) && query.top > 0)) throw inputInvalid('top must be a positive integer');
  const pageSize = options?.pageSize;
  if (pageSize !== undefined && !(Number.isSafeInteger(pageSize) && pageSize > 0 && pageSize <= MAX_PAGE_SIZE)) {
    throw inputInvalid(`pageSize must be an integer in 1..${MAX_PAGE_SIZE}`);
  }
}

function assertFieldPath(field: unknown): void {
  if (typeof field !== 'string' || !FIELD_PATH.test(field)) throw inputInvalid('query field must be a dotted path of plain names');
  if (RESERVED_DOCUMENT_FIELDS.includes(field.split('.')[0] ?? '')) throw inputInvalid(`query field "${field}" is reserved for the store`);
}

/** True when the document carries an expiry that has passed. */
export function isDocumentExpired(doc: { expiresAtMs?: unknown }, nowMs: number): boolean {
  return typeof doc.expiresAtMs === 'number' && doc.expiresAtMs <= nowMs;
}

function inputInvalid(message: string): KarsError {
  return new KarsError('INPUT_INVALID', message);
}
