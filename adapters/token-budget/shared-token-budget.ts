// RR3: the router's model-token budgets in the same DocumentStore documents the edge limiter shares (Cosmos in Azure
// and locally): the cluster document's `counters.modelTokens` and the tenant document's share of it
// (`share.modelTokens`) and own token quota (`budget.modelTokenQuota`) are the edge limiter's own fields
// (adapters/edge-limiter/limit-refills.ts), so every router and the edge draw on one tenant and one cluster budget;
// each sandbox has a document of its own (per UTC day and per 30-day period). Every change is an ETag
// compare-and-swap (adapters/edge-limiter/limit-documents.ts), exact per call (no leases: a reservation is returned
// or settled at once, and model calls are slow next to a store write). Calls of one router on one document are
// serialised here, so only other routers race on the etag. Fails closed: a store that cannot answer refuses the call.
import { isKarsError } from '../../core/errors';
import { returnToQuotas, takeFromQuotas, tenantShareLimits, type ClusterBudgetConfig } from '../../core/limits/cluster-budget';
import { periodStart, type QuotaConfig, type QuotaCounter } from '../../core/limits/tenant-budget';
import type { Clock } from '../../core/ports/clock.port';
import type { DocumentBody, DocumentStore } from '../../core/ports/document-store.port';
import type { JsonValue as DocumentValue } from '../../core/json/json-value';
import type { Logger } from '../../core/ports/logger.port';
import type { ReserveResult, TokenBudget, TokenBudgetScope, TokenReservation } from '../../core/ports/token-budget.port';
import { CAS_CONTENDED, compareAndSwap, limitDocumentKey, type CasOptions, type LimitDocumentKey, type StoreCounters } from '../edge-limiter/limit-documents';
import { createHash } from 'node:crypto';

export const DAY_MS = 86_400_000;
/** "Month": 30-day periods aligned to the Unix epoch (periods are epoch-aligned throughout the limiter). */
export const MONTH_MS = 30 * DAY_MS;

export interface SharedTokenBudgetOptions {
  /** Per sandbox per UTC day and per 30-day period. */
  readonly sandboxDayTokens: number;
  readonly sandboxMonthTokens: number;
  /** The tenant's own token quota (the edge's `modelTokenQuota` of its tenant budget), if any. */
  readonly tenantTokenQuota?: QuotaConfig;
  /** The cluster budget (as the edge's; its model-token quota and the per-tenant share are drawn here). */
  readonly cluster?: ClusterBudgetConfig;
  /** Partition key prefix of the edge's limit documents (the same, so both draw on one budget). Default 'limit'. */
  readonly keyPrefix?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxCasAttempts?: number;
  readonly storeTimeoutMs?: number;
}

const TENANT_KIND = 'kars-limit-tenant';
const CLUSTER_KIND = 'kars-limit-cluster';
const SANDBOX_KIND = 'kars-limit-sandbox-tokens';
const RETENTION_MS = 60_000;

type Level = Exclude<ReserveResult, { ok: true }>['level'];

/** One quota held in a document field. */
interface Slot {
  readonly level: Level;
  readonly kind: 'quota' | 'rate';
  readonly quota: QuotaConfig;
  readonly path: readonly [string, string];
}

interface Doc {
  readonly key: LimitDocumentKey;
  readonly kind: string;
  readonly slots: readonly Slot[];
}

export function createSharedTokenBudget(store: DocumentStore, o: SharedTokenBudgetOptions): TokenBudget & { stats(): StoreCounters } {
  const prefix = o.keyPrefix ?? 'limit';
  const counters: StoreCounters = { reads: 0, writes: 0, conflicts: 0, contended: 0 };
  const cas: CasOptions = { maxAttempts: o.maxCasAttempts ?? 16, timeoutMs: o.storeTimeoutMs ?? 2000, counters, nowMs: () => o.clock.nowMs() };
  const share = o.cluster ? tenantShareLimits(o.cluster).modelTokens : undefined;
  const clusterQuota = o.cluster?.modelTokenQuota;
  const locks = new Map<string, Promise<unknown>>();

  // A router has one sandbox and one tenant: the documents (and their hashed keys) are worked out once per scope.
  const docsByScope = new Map<string, readonly Doc[]>();
  const docsFor = (scope: TokenBudgetScope): readonly Doc[] => {
    const id = `${scope.sandboxId}\0${scope.tenantId}`;
    let docs = docsByScope.get(id);
    if (docs === undefined) {
      docs = docsOf(scope);
      if (docsByScope.size >= 1024) docsByScope.clear();
      docsByScope.set(id, docs);
    }
    return docs;
  };
  const docsOf = (scope: TokenBudgetScope): Doc[] => {
    const out: Doc[] = [{
      key: sandboxKey(prefix, scope.sandboxId), kind: SANDBOX_KIND,
      slots: [
        { level: 'sandbox-day', kind: 'quota', quota: { limit: o.sandboxDayTokens, periodMs: DAY_MS }, path: ['counters', 'day'] },
        { level: 'sandbox-month', kind: 'quota', quota: { limit: o.sandboxMonthTokens, periodMs: MONTH_MS }, path: ['counters', 'month'] },
      ],
    }];
    const tenantSlots: Slot[] = [];
    if (o.tenantTokenQuota) tenantSlots.push({ level: 'tenant', kind: 'quota', quota: o.tenantTokenQuota, path: ['budget', 'modelTokenQuota'] });
    if (share) tenantSlots.push({ level: 'tenant-share', kind: 'rate', quota: share, path: ['share', 'modelTokens'] });
    if (tenantSlots.length > 0) out.push({ key: limitDocumentKey(prefix, 'tenant', scope.tenantId), kind: TENANT_KIND, slots: tenantSlots });
    if (clusterQuota) out.push({ key: limitDocumentKey(prefix, 'cluster'), kind: CLUSTER_KIND, slots: [{ level: 'cluster', kind: 'rate', quota: clusterQuota, path: ['counters', 'modelTokens'] }] });
    return out;
  };

  /** Runs `fn` after every earlier call of this router on the same document. */
  const serial = <T>(key: LimitDocumentKey, fn: () => Promise<T>): Promise<T> => {
    const id = `${key.partitionKey}/${key.id}`;
    const prev = locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    locks.set(id, tail);
    void tail.then(() => { if (locks.get(id) === tail) locks.delete(id); });
    return next;
  };

  /** Takes `tokens` from every slot of `doc`; returns the refusing slot, 'contended', or undefined when taken. */
  const take = (doc: Doc, tokens: number): Promise<Slot | typeof CAS_CONTENDED | undefined> => serial(doc.key, () =>
    compareAndSwap<Slot | undefined>(store, doc.key, (current, nowMs) => {
      const body = clone(current, doc);
      for (const slot of doc.slots) {
        const t = takeFromQuotas({ modelTokens: get(body, slot) }, nowMs, { requests: 0, modelTokens: tokens }, { modelTokens: slot.quota });
        if (!t.allowed) return { result: slot };
        set(body, slot, t.state.modelTokens!);
      }
      return { result: undefined, write: finish(body, doc, nowMs) };
    }, cas));

  /** Changes every slot of `doc` by `delta` (negative: give back units taken at `atMs`, same period only). */
  const adjust = (doc: Doc, delta: number, atMs: number): Promise<unknown> => serial(doc.key, () =>
    compareAndSwap<undefined>(store, doc.key, (current, nowMs) => {
      const body = clone(current, doc);
      for (const slot of doc.slots) {
        const limits = { modelTokens: slot.quota };
        const state = { modelTokens: get(body, slot) };
        if (delta < 0) {
          set(body, slot, returnToQuotas(state, nowMs, { requests: 0, modelTokens: -delta }, atMs, limits).modelTokens!);
        } else {
          // Usage above the reservation is charged to the current period even past its limit: it was spent.
          const rolled = takeFromQuotas(state, nowMs, { requests: 0, modelTokens: 0 }, limits).state.modelTokens;
          const start = periodStart(nowMs, slot.quota.periodMs);
          const c = rolled ?? { used: 0, periodStartMs: start };
          set(body, slot, { used: c.used + delta, periodStartMs: c.periodStartMs });
        }
      }
      return { result: undefined, write: finish(body, doc, nowMs) };
    }, cas));

  return {
    stats: () => ({ ...counters }),
    async reserve(scope, tokens) {
      if (!Number.isSafeInteger(tokens) || tokens < 0) throw new RangeError('"tokens" expected non-negative integer');
      const atMs = o.clock.nowMs();
      const done: Doc[] = [];
      const undo = async (): Promise<void> => {
        await Promise.all(done.map((d) => adjust(d, -tokens, atMs).catch(() => o.logger.error('router.budget_return_failed', { sandboxId: scope.sandboxId }))));
      };
      for (const doc of docsFor(scope)) {
        let r: Slot | typeof CAS_CONTENDED | undefined;
        try {
          r = await take(doc, tokens);
        } catch (e) {
          o.logger.warn('router.budget_fail_closed', { code: isKarsError(e) ? e.code : 'INTERNAL', sandboxId: scope.sandboxId });
          await undo();
          return { ok: false, kind: 'rate', level: 'store', retryAfterMs: 1000 };
        }
        if (r === CAS_CONTENDED) { await undo(); return { ok: false, kind: 'rate', level: 'store', retryAfterMs: 100 }; }
        if (r !== undefined) {
          await undo();
          const end = periodStart(o.clock.nowMs(), r.quota.periodMs) + r.quota.periodMs;
          return tokens > r.quota.limit
            ? { ok: false, kind: 'quota', level: r.level }
            : { ok: false, kind: r.kind, level: r.level, retryAfterMs: Math.max(1, end - o.clock.nowMs()) };
        }
        done.push(doc);
      }
      return { ok: true, reservation: { tokens, atMs, scope } };
    },
    async settle(reservation: TokenReservation, usedTokens: number) {
      const delta = usedTokens - reservation.tokens;
      if (delta === 0) return;
      await Promise.all(docsFor(reservation.scope).map((d) => adjust(d, delta, reservation.atMs).catch((e: unknown) => {
        o.logger.error('router.budget_settle_failed', { code: isKarsError(e) ? e.code : 'INTERNAL', sandboxId: reservation.scope.sandboxId });
      })));
    },
  };
}

/** Where one sandbox's day and month counters live. */
export function sandboxKey(prefix: string, sandboxId: string): LimitDocumentKey {
  const digest = createHash('sha256').update(`sandbox-tokens\0${sandboxId}`, 'utf8').digest('hex').slice(0, 40);
  return { partitionKey: `${prefix}:sandbox-tokens:${digest}`, id: 'sandbox-tokens' };
}

type Mutable = Record<string, Record<string, DocumentValue> | DocumentValue>;

function clone(current: DocumentBody | undefined, doc: Doc): Mutable {
  if (current === undefined) return { id: doc.key.id, kind: doc.kind };
  if (current['kind'] !== doc.kind) throw new TypeError('limit document of another kind');
  return JSON.parse(JSON.stringify(current)) as Mutable;
}

function get(body: Mutable, slot: Slot): QuotaCounter | undefined {
  const group = body[slot.path[0]];
  const c = typeof group === 'object' && group !== null && !Array.isArray(group) ? (group as Record<string, DocumentValue>)[slot.path[1]] : undefined;
  if (c === undefined || c === null) return undefined;
  const q = c as unknown as QuotaCounter;
  if (!Number.isSafeInteger(q.used) || q.used < 0 || !Number.isSafeInteger(q.periodStartMs)) throw new TypeError('malformed quota counter');
  return { used: q.used, periodStartMs: q.periodStartMs };
}

function set(body: Mutable, slot: Slot, c: QuotaCounter): void {
  const group = body[slot.path[0]];
  const g = typeof group === 'object' && group !== null && !Array.isArray(group) ? group as Record<string, DocumentValue> : {};
  g[slot.path[1]] = { used: c.used, periodStartMs: c.periodStartMs };
  body[slot.path[0]] = g;
}

/** Keeps the document until its longest period ends (the edge's fields may keep it longer). */
function finish(body: Mutable, doc: Doc, nowMs: number): DocumentBody {
  const ends = doc.slots.map((s) => periodStart(nowMs, s.quota.periodMs) + s.quota.periodMs + RETENTION_MS);
  const prev = typeof body['expiresAtMs'] === 'number' ? body['expiresAtMs'] : 0;
  return { ...body, id: doc.key.id, kind: doc.kind, expiresAtMs: Math.max(prev, ...ends) } as DocumentBody;
}
