// Group commit (T1-R/T2-R/T4-R receipts): items for one key that arrive while that key's previous write is in flight
// are written together by the next write, as soon as it commits. No timer: an idle key writes a lone item at once.
// Each caller's promise settles with its own item's result, once the write holding it has finished.
// The waiting items are bounded, per key and over all keys: when the store is slower than the arrivals, a caller past
// the bound is refused at once (back-pressure) instead of queueing without limit in this process's memory.

export interface GroupCommitOptions {
  /** Items per write at most. */
  maxItems: number;
  /** Bytes per write at most (a lone larger item still gets its own write). */
  maxBytes: number;
  /** The error a caller gets when its abort signal fires before its item is written. */
  aborted: () => unknown;
  /** Items waiting for one key's next write at most; more are refused with `overloaded()`. */
  maxQueuedPerKey: number;
  /** Items waiting over all keys at most. */
  maxQueuedTotal: number;
  /** The error a caller gets when the queue is full. */
  overloaded: () => unknown;
}

/** Writes one batch for `key`; returns one result per item, in order. A throw fails exactly this batch's callers. */
export type GroupWrite<T, R> = (key: string, items: readonly T[]) => Promise<readonly R[]>;

interface Waiter<T, R> {
  readonly item: T;
  readonly bytes: number;
  settled: boolean;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** One key's items waiting for the next write, and whether a write for it is in flight. */
interface Lane<T, R> {
  queue: Waiter<T, R>[];
  writing: boolean;
}

export class GroupCommit<T, R> {
  readonly #write: GroupWrite<T, R>;
  readonly #options: GroupCommitOptions;
  readonly #lanes = new Map<string, Lane<T, R>>();
  /** Items in all lanes' queues (taken into a write = no longer queued). */
  #queued = 0;

  constructor(write: GroupWrite<T, R>, options: GroupCommitOptions) {
    this.#write = write;
    this.#options = options;
  }

  /**
   * Queues `item` for `key` and resolves with its result once the write holding it is done. An abort while the item
   * still waits drops it from its batch; once its write is under way the caller only stops waiting.
   */
  submit(key: string, item: T, bytes: number, abortSignal?: AbortSignal): Promise<R> {
    if (abortSignal?.aborted) return Promise.reject(this.#options.aborted());
    const queuedHere = this.#lanes.get(key)?.queue.length ?? 0;
    if (queuedHere >= this.#options.maxQueuedPerKey || this.#queued >= this.#options.maxQueuedTotal) {
      return Promise.reject(this.#options.overloaded());
    }
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { queue: [], writing: false };
      this.#lanes.set(key, lane);
    }
    const theLane = lane;
    return new Promise<R>((resolve, reject) => {
      const waiter: Waiter<T, R> = { item, bytes, settled: false, resolve, reject };
      if (abortSignal) {
        const onAbort = (): void => {
          if (waiter.settled) return;
          waiter.settled = true;
          reject(this.#options.aborted());
        };
        abortSignal.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (r) => {
          abortSignal.removeEventListener('abort', onAbort);
          resolve(r);
        };
        waiter.reject = (e) => {
          abortSignal.removeEventListener('abort', onAbort);
          reject(e);
        };
      }
      theLane.queue.push(waiter);
      this.#queued += 1;
      if (!theLane.writing) {
        theLane.writing = true;
        // A microtask, not a timer: items submitted in the same turn share the first write, and an idle key waits for nothing.
        queueMicrotask(() => void this.#drain(key, theLane));
      }
    });
  }

  /** Writes the lane's waiting items, one batch per write, until none are left. */
  async #drain(key: string, lane: Lane<T, R>): Promise<void> {
    for (;;) {
      const batch = this.#takeBatch(lane);
      if (batch.length === 0) break;
      try {
        const results = await this.#write(key, batch.map((w) => w.item));
        for (const [index, w] of batch.entries()) {
          if (w.settled) continue;
          w.settled = true;
          w.resolve(results[index] as R);
        }
      } catch (e) {
        for (const w of batch) {
          if (w.settled) continue;
          w.settled = true;
          w.reject(e);
        }
      }
    }
    lane.writing = false;
    if (this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }

  /** The next batch: waiting items in arrival order, up to the item and byte bounds (at least one). */
  #takeBatch(lane: Lane<T, R>): Waiter<T, R>[] {
    const batch: Waiter<T, R>[] = [];
    let bytes = 0;
    let taken = 0;
    for (const w of lane.queue) {
      if (batch.length >= this.#options.maxItems || (batch.length > 0 && bytes + w.bytes > this.#options.maxBytes)) break;
      taken += 1;
      if (w.settled) continue; // aborted while waiting: never written
      batch.push(w);
      bytes += w.bytes;
    }
    lane.queue.splice(0, taken);
    this.#queued -= taken;
    return batch;
  }
}
