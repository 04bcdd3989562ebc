// In-memory DocumentStore for unit tests and benchmarks; mirrors the Cosmos adapter's semantics (contract-tested).
import { randomUUID } from 'node:crypto';
import { KarsError } from '../../core/errors';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import {
  assertDocumentBody, assertDocumentId, assertDocumentQuery, assertPartitionKey, isDocumentExpired,
} from '../../core/ports/document-store.port';
import type {
  DeleteDocumentOptions, DocumentBody, DocumentCallOptions, DocumentPage, DocumentQuery, DocumentStore,
  FilterValue, QueryDocumentsOptions, ReplaceDocumentOptions, VersionedDocument,
} from '../../core/ports/document-store.port';

interface Entry {
  json: string;
  etag: string;
  /** What `json` says of expiresAtMs (a finite number survives the round trip; anything else does not). */
  expiresAtMs: number | undefined;
  /** Parsed on the first query that needs it; never handed out (callers get fresh copies from `json`). */
  parsed?: Record<string, unknown>;
}

export interface MemoryDocumentStoreOptions {
  clock?: Clock;
}

const DEFAULT_PAGE_SIZE = 100;
const TOKEN_PREFIX = 'mem1:';

export class MemoryDocumentStore implements DocumentStore {
  readonly #partitions = new Map<string, Map<string, Entry>>();
  readonly #clock: Clock;
  /** Etags are opaque: a per-store random prefix and a write counter keep them unique without a UUID per write. */
  readonly #etagPrefix = `${randomUUID()}:`;
  #writes = 0;

  constructor(options?: MemoryDocumentStoreOptions) {
    this.#clock = options?.clock ?? systemClock;
  }

  async read<T extends DocumentBody = DocumentBody>(
    partitionKey: string, id: string, options?: DocumentCallOptions,
  ): Promise<VersionedDocument<T> | undefined> {
    assertPartitionKey(partitionKey);
    assertDocumentId(id);
    checkAborted(options);
    const entry = this.#live(partitionKey, id);
    return entry ? { doc: JSON.parse(entry.json) as T, etag: entry.etag } : undefined;
  }

  async create(partitionKey: string, doc: DocumentBody, options?: DocumentCallOptions): Promise<{ etag: string }> {
    assertPartitionKey(partitionKey);
    assertDocumentBody(doc);
    checkAborted(options);
    if (this.#live(partitionKey, doc.id)) throw new KarsError('STORE_CONFLICT', 'document already exists');
    return { etag: this.#put(partitionKey, doc) };
  }

  async replace(partitionKey: string, doc: DocumentBody, options: ReplaceDocumentOptions): Promise<{ etag: string }> {
    assertPartitionKey(partitionKey);
    assertDocumentBody(doc);
    checkAborted(options);
    if (typeof options?.ifMatch !== 'string') throw new KarsError('INPUT_INVALID', 'replace needs ifMatch');
    const entry = this.#live(partitionKey, doc.id);
    if (!entry) throw new KarsError('STORE_NOT_FOUND', 'document not found');
    if (entry.etag !== options.ifMatch) throw new KarsError('STORE_PRECONDITION_FAILED', 'document changed since it was read');
    return { etag: this.#put(partitionKey, doc) };
  }

  async upsert(partitionKey: string, doc: DocumentBody, options?: DocumentCallOptions): Promise<{ etag: string }> {
    assertPartitionKey(partitionKey);
    assertDocumentBody(doc);
    checkAborted(options);
    return { etag: this.#put(partitionKey, doc) };
  }

  async delete(partitionKey: string, id: string, options?: DeleteDocumentOptions): Promise<boolean> {
    assertPartitionKey(partitionKey);
    assertDocumentId(id);
    checkAborted(options);
    const entry = this.#partitions.get(partitionKey)?.get(id);
    if (!entry) return false;
    if (options?.ifMatch !== undefined && options.ifMatch !== entry.etag) {
      throw new KarsError('STORE_PRECONDITION_FAILED', 'document changed since it was read');
    }
    this.#partitions.get(partitionKey)?.delete(id);
    return true;
  }

  async query<T extends DocumentBody = DocumentBody>(
    partitionKey: string, query: DocumentQuery, options?: QueryDocumentsOptions,
  ): Promise<DocumentPage<T>> {
    assertPartitionKey(partitionKey);
    assertDocumentQuery(query, options);
    checkAborted(options);
    const nowMs = this.#clock.nowMs();
    let rows: Entry[] = [];
    for (const entry of this.#partitions.get(partitionKey)?.values() ?? []) {
      if (isDocumentExpired(entry, nowMs)) continue;
      const doc = parsedOf(entry);
      if ((query.where ?? []).every((f) => matches(valueAt(doc, f.field), f.op, f.value))) rows.push(entry);
    }
    // Stable base order (id) so ties and unordered queries page deterministically.
    rows.sort((a, b) => compareJson(parsedOf(a)['id'], parsedOf(b)['id']));
    const orderBy = query.orderBy;
    if (orderBy) {
      const sign = orderBy.direction === 'desc' ? -1 : 1;
      rows = rows.filter((r) => valueAt(parsedOf(r), orderBy.field) !== undefined);
      rows.sort((a, b) => sign * compareJson(valueAt(parsedOf(a), orderBy.field), valueAt(parsedOf(b), orderBy.field)));
    }
    if (query.top !== undefined) rows = rows.slice(0, query.top);
    const offset = parseToken(options?.continuationToken);
    const pageSize = options?.pageSize ?? DEFAULT_PAGE_SIZE;
    const page = rows.slice(offset, offset + pageSize);
    const next = offset + page.length;
    return {
      items: page.map((r) => ({ doc: JSON.parse(r.json) as T, etag: r.etag })),
      ...(next < rows.length ? { continuationToken: `${TOKEN_PREFIX}${next}` } : {}),
    };
  }

  /** Test helper: number of stored documents including expired ones. */
  _size(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.size;
    return n;
  }

  #live(partitionKey: string, id: string): Entry | undefined {
    const entry = this.#partitions.get(partitionKey)?.get(id);
    if (!entry) return undefined;
    return isDocumentExpired(entry, this.#clock.nowMs()) ? undefined : entry;
  }

  #put(partitionKey: string, doc: DocumentBody): string {
    let partition = this.#partitions.get(partitionKey);
    if (!partition) {
      partition = new Map();
      this.#partitions.set(partitionKey, partition);
    }
    // Stored as its JSON: what the wire would carry (undefined dropped, no shared references).
    const etag = `${this.#etagPrefix}${(this.#writes += 1)}`;
    const expiresAtMs = typeof doc.expiresAtMs === 'number' && Number.isFinite(doc.expiresAtMs) ? doc.expiresAtMs : undefined;
    partition.set(doc.id, { json: JSON.stringify(doc), etag, expiresAtMs });
    return etag;
  }
}

function parsedOf(entry: Entry): Record<string, unknown> {
  entry.parsed ??= JSON.parse(entry.json) as Record<string, unknown>;
  return entry.parsed;
}

function checkAborted(options: DocumentCallOptions | undefined): void {
  if (options?.abortSignal?.aborted) throw new KarsError('STORE_UNAVAILABLE', 'document store call aborted');
}

function parseToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const n = token.startsWith(TOKEN_PREFIX) ? Number(token.slice(TOKEN_PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new KarsError('INPUT_INVALID', 'continuation token is not from this store');
  return n;
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

type JsonType = 'undefined' | 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';
const TYPE_ORDER: JsonType[] = ['undefined', 'null', 'boolean', 'number', 'string', 'array', 'object'];

function jsonType(v: unknown): JsonType {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'boolean' || t === 'number' || t === 'string' ? t : 'object';
}

// Cosmos: values of different types never compare equal or ordered in a WHERE clause (the result is undefined).
function matches(actual: unknown, op: string, expected: FilterValue): boolean {
  if (jsonType(actual) !== jsonType(expected) || actual === undefined) return false;
  const c = compareJson(actual, expected);
  switch (op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    default: return false;
  }
}

// ORDER BY across types: undefined < null < boolean < number < string < array < object, as Cosmos sorts.
function compareJson(a: unknown, b: unknown): number {
  const ta = jsonType(a);
  const tb = jsonType(b);
  if (ta !== tb) return TYPE_ORDER.indexOf(ta) - TYPE_ORDER.indexOf(tb);
  if (ta === 'array' || ta === 'object' || a === b) return 0;
  return (a as number | string | boolean) < (b as number | string | boolean) ? -1 : 1;
}
