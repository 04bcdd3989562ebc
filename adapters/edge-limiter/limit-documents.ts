// T1-D/RR3: where the shared limit states live in the DocumentStore, and the bounded compare-and-swap loop that
// updates them (read, compute, write with If-Match; on a lost race read again), with a deadline on every store call.
import { sha256Hex } from '../../core/crypto/sha256-hex';
import { KarsError, isKarsError } from '../../core/errors';
import type { DocumentBody, DocumentStore } from '../../core/ports/document-store.port';

export type LimitKind = 'global' | 'agent' | 'tenant' | 'cluster';

export interface LimitDocumentKey {
  readonly partitionKey: string;
  readonly id: string;
}

/**
 * One document per limit, each in its own logical partition (hot point writes spread over physical partitions).
 * Agent and tenant ids are hashed: any string is a valid key, and ids never reach the store's key syntax.
 */
export function limitDocumentKey(prefix: string, kind: LimitKind, name?: string): LimitDocumentKey {
  if (kind === 'global' || kind === 'cluster') return { partitionKey: `${prefix}:${kind}`, id: kind };
  const digest = sha256Hex(`${kind}\0${name ?? ''}`).slice(0, 40);
  return { partitionKey: `${prefix}:${kind}:${digest}`, id: kind };
}

export interface StoreCounters {
  reads: number;
  /** Successful creates and replaces. */
  writes: number;
  /** Writes refused because another instance wrote first (412/409/404), each followed by a fresh read. */
  conflicts: number;
  /** Refills that lost every attempt (answered with a short 429). */
  contended: number;
}

export interface CasOptions {
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly counters: StoreCounters;
  readonly nowMs: () => number;
}

export interface CasStep<R> {
  readonly result: R;
  /** The document to store; undefined when nothing changed (a refusal). */
  readonly write?: DocumentBody;
  /**
   * The answer if the write loses the race, instead of reading again and retrying: when what was left was barely
   * enough for this grant, the instance that won took it, and another read would most likely only confirm that.
   */
  readonly ifLost?: R;
}

/** Every attempt lost the race: the caller refuses for now (fail closed) rather than admitting unaccounted. */
export const CAS_CONTENDED: unique symbol = Symbol('cas-contended');

/**
 * Reads the document, lets `compute` decide on it, and writes the result only if nobody wrote in between (If-Match;
 * create when absent). A lost race re-reads and recomputes, at most `maxAttempts` times.
 * @throws KarsError STORE_UNAVAILABLE (also when a call exceeds `timeoutMs`), or whatever `compute` throws
 */
export async function compareAndSwap<R>(
  store: DocumentStore,
  key: LimitDocumentKey,
  compute: (doc: DocumentBody | undefined, nowMs: number) => CasStep<R>,
  options: CasOptions,
): Promise<R | typeof CAS_CONTENDED> {
  for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
    const current = await withDeadline(options.timeoutMs, (signal) => store.read(key.partitionKey, key.id, { abortSignal: signal }));
    options.counters.reads += 1;
    const step = compute(current?.doc, options.nowMs());
    if (step.write === undefined) return step.result;
    const doc = step.write;
    try {
      await withDeadline(options.timeoutMs, (signal) => (current === undefined
        ? store.create(key.partitionKey, doc, { abortSignal: signal })
        : store.replace(key.partitionKey, doc, { ifMatch: current.etag, abortSignal: signal })));
      options.counters.writes += 1;
      return step.result;
    } catch (e) {
      if (!isKarsError(e) || !['STORE_PRECONDITION_FAILED', 'STORE_CONFLICT', 'STORE_NOT_FOUND'].includes(e.code)) throw e;
      options.counters.conflicts += 1;
      if (step.ifLost !== undefined) return step.ifLost;
      // Random, growing pause so instances that collided do not collide again in lockstep.
      if (attempt < options.maxAttempts) await sleep(Math.floor(Math.random() * Math.min(2 ** attempt, 32)));
    }
  }
  options.counters.contended += 1;
  return CAS_CONTENDED;
}

/**
 * Runs a store call with a deadline: the call is aborted and the promise rejects with STORE_UNAVAILABLE when it takes
 * longer, even if the store ignores the abort signal (a hung connection must not hold requests).
 */
export function withDeadline<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  // One promise and one timer per call (no race of two promises): this runs several times per model call (RR3).
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      controller.abort();
      reject(new KarsError('STORE_UNAVAILABLE', `limit store call exceeded ${timeoutMs} ms`));
    }, timeoutMs);
    let pending: Promise<T>;
    try {
      pending = call(controller.signal);
    } catch (e) {
      clearTimeout(timer);
      reject(e);
      return;
    }
    pending.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
