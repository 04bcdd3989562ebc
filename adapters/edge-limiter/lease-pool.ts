// T1-D/RR3: one process's lease on one shared limit document. Requests spend units locally; when the lease runs dry,
// one refill at a time (single flight) takes a chunk for everyone waiting in one compare-and-swap; a refusal is
// remembered until it can change, so a flood against a spent limit costs no store traffic at all.

/** Units a request needs from a limit: always 1 request; model tokens only where the limit counts them. */
export interface Units {
  readonly requests: number;
  readonly modelTokens: number;
}

/** Why a limit refused, in absolute times so a cached refusal reports the right wait later. */
export type LimitRefusal =
  | {
      readonly kind: 'rate';
      readonly scope: 'global' | 'agent' | 'tenant';
      /** When a retry can succeed at the earliest (Retry-After is measured to it). */
      readonly retryAtMs: number;
    }
  | {
      readonly kind: 'quota';
      readonly scope: 'requests' | 'tokens';
      /** End of the period; undefined when the request exceeds the limit outright. */
      readonly resetsAtMs: number | undefined;
    };

export interface RefillInput {
  readonly nowMs: number;
  /** Unexpired units still in the lease (not enough for the first waiter). */
  readonly held: Units;
  /**
   * What the waiters need beyond `held`, topped up to the chunk and capped at the largest grant. A function: it is
   * read when the shared state is in hand, so requests that queued during the read are counted in the same write.
   */
  want(): Units;
  /** The least that serves the first waiter. */
  readonly min: Units;
  /** The configured chunk. */
  readonly chunk: Units;
  /** Units of expired leases to give back in the same write (quota limits only). */
  readonly unreturned: readonly UnusedUnits[];
}

export interface UnusedUnits {
  readonly units: Units;
  readonly grantedAtMs: number;
}

export type RefillResult =
  | {
      readonly ok: true;
      readonly granted: Units;
      readonly expiresAtMs: number;
      readonly returned: boolean;
      /**
       * This grant spent a model-token quota: the waiters it serves pass, but from now on every request is refused
       * (a spent token quota refuses requests reserving none), so the rest of the lease is not used.
       */
      readonly exhausted?: { readonly refusal: LimitRefusal; readonly untilMs: number };
    }
  | {
      readonly ok: false;
      readonly refusal: LimitRefusal;
      /** Cache the refusal until then (undefined: do not cache). */
      readonly cacheUntilMs: number | undefined;
      /**
       * The refusal (and its cached copy) applies to requests reserving at least this many model tokens: 0 for all,
       * more when only the model-token amount failed and a smaller request could still pass.
       */
      readonly appliesFromTokens: number;
      readonly returned: boolean;
    };

export type Refill = (input: RefillInput) => Promise<RefillResult>;

export type AcquireResult =
  | { readonly ok: true; readonly units: Units; readonly grantedAtMs: number }
  | { readonly ok: false; readonly refusal: LimitRefusal };

export interface LeasePoolOptions {
  readonly chunk: Units;
  /** Largest single grant when many requests wait (they are served at once, so nothing is held longer). */
  readonly maxGrant: Units;
  /** Quota limits give unused units back at the next write; bucket limits drop them (the bucket refills anyway). */
  readonly returnsUnused: boolean;
  readonly tracksModelTokens: boolean;
  readonly refill: Refill;
  readonly nowMs: () => number;
  /** Retry-After for a request whose caller aborted while it waited for a refill. */
  readonly abortedRetryAfterMs: number;
  /** Answer for a waiter whose refill threw (store unavailable, corrupt document): fail closed. */
  readonly onRefillError: (error: unknown) => { refusal: LimitRefusal; cacheUntilMs: number | undefined };
}

interface Lease {
  requests: number;
  modelTokens: number;
  expiresAtMs: number;
  grantedAtMs: number;
}

interface Waiter {
  readonly need: Units;
  readonly resolve: (r: AcquireResult) => void;
}

const MAX_UNRETURNED = 8;
const MAX_IDLE_REFILLS = 4;

export class LeasePool {
  readonly #o: LeasePoolOptions;
  #lease: Lease | undefined;
  #unreturned: UnusedUnits[] = [];
  #refusal: { refusal: LimitRefusal; untilMs: number; fromTokens: number } | undefined;
  readonly #waiters: Waiter[] = [];
  #running = false;

  constructor(options: LeasePoolOptions) {
    this.#o = options;
  }

  /** The units this limit counts for a request reserving `modelTokens`. */
  needFor(modelTokens: number): Units {
    return { requests: 1, modelTokens: this.#o.tracksModelTokens ? modelTokens : 0 };
  }

  /** A remembered refusal that applies to `need` now, without any store call. */
  cachedRefusal(need: Units, nowMs: number): LimitRefusal | undefined {
    const r = this.#refusal;
    if (r === undefined) return undefined;
    if (nowMs >= r.untilMs) {
      this.#refusal = undefined;
      return undefined;
    }
    return need.modelTokens >= r.fromTokens ? r.refusal : undefined;
  }

  /** True when nothing waits or runs, so the pool can be dropped (its lease is lost; quota units stay counted). */
  get idle(): boolean {
    return !this.#running && this.#waiters.length === 0;
  }

  /** Takes `need` from the lease, refilling it from the shared document when it runs dry. */
  acquire(need: Units, abortSignal?: AbortSignal): Promise<AcquireResult> {
    const nowMs = this.#o.nowMs();
    const cached = this.cachedRefusal(need, nowMs);
    if (cached !== undefined) return Promise.resolve({ ok: false, refusal: cached });
    if (this.#waiters.length === 0) {
      const taken = this.#take(need, nowMs);
      if (taken !== undefined) return Promise.resolve(taken);
    }
    return new Promise<AcquireResult>((resolve) => {
      let onAbort: (() => void) | undefined;
      const waiter: Waiter = {
        need,
        resolve: (r) => {
          if (onAbort !== undefined) abortSignal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      this.#waiters.push(waiter);
      if (abortSignal !== undefined) {
        // The caller gave up (client gone, invocation cancelled): answer now; the refill goes on for the others.
        onAbort = (): void => {
          const i = this.#waiters.indexOf(waiter);
          if (i < 0) return;
          this.#waiters.splice(i, 1);
          waiter.resolve({ ok: false, refusal: { kind: 'rate', scope: 'global', retryAtMs: this.#o.nowMs() + this.#o.abortedRetryAfterMs } });
        };
        if (abortSignal.aborted) onAbort();
        else abortSignal.addEventListener('abort', onAbort, { once: true });
      }
      if (!this.#running) void this.#run();
    });
  }

  /** Gives back units a request took but did not use (a later limit refused it). No store call. */
  release(units: Units, grantedAtMs: number): void {
    const lease = this.#lease;
    if (lease !== undefined && lease.grantedAtMs === grantedAtMs && this.#o.nowMs() < lease.expiresAtMs) {
      // Keep at most a chunk in hand: held units shift admissions in time, and the chunk is what bounds that shift.
      const requests = Math.min(units.requests, Math.max(0, this.#o.chunk.requests - lease.requests));
      const modelTokens = Math.min(units.modelTokens, Math.max(0, this.#o.chunk.modelTokens - lease.modelTokens));
      lease.requests += requests;
      lease.modelTokens += modelTokens;
      this.#keepUnused({ requests: units.requests - requests, modelTokens: units.modelTokens - modelTokens }, grantedAtMs);
      return;
    }
    this.#keepUnused(units, grantedAtMs);
  }

  #take(need: Units, nowMs: number): AcquireResult | undefined {
    const lease = this.#lease;
    if (lease === undefined) return undefined;
    if (nowMs >= lease.expiresAtMs) {
      this.#expire();
      return undefined;
    }
    if (lease.requests < need.requests || lease.modelTokens < need.modelTokens) return undefined;
    lease.requests -= need.requests;
    lease.modelTokens -= need.modelTokens;
    return { ok: true, units: need, grantedAtMs: lease.grantedAtMs };
  }

  #expire(): void {
    const lease = this.#lease;
    if (lease === undefined) return;
    this.#lease = undefined;
    this.#keepUnused({ requests: lease.requests, modelTokens: lease.modelTokens }, lease.grantedAtMs);
  }

  #keepUnused(units: Units, grantedAtMs: number): void {
    if (!this.#o.returnsUnused || (units.requests === 0 && units.modelTokens === 0)) return;
    this.#unreturned.push({ units, grantedAtMs });
    // Old leftovers are almost always from an earlier period, where returning them changes nothing.
    if (this.#unreturned.length > MAX_UNRETURNED) this.#unreturned.shift();
  }

  #serve(nowMs: number): void {
    while (this.#waiters.length > 0) {
      const taken = this.#take(this.#waiters[0]!.need, nowMs);
      if (taken === undefined) return;
      this.#waiters.shift()!.resolve(taken);
    }
  }

  #refuseMatching(refusal: LimitRefusal, fromTokens: number): number {
    let refused = 0;
    for (let i = 0; i < this.#waiters.length;) {
      const w = this.#waiters[i]!;
      if (w.need.modelTokens < fromTokens) {
        i += 1;
        continue;
      }
      this.#waiters.splice(i, 1);
      w.resolve({ ok: false, refusal });
      refused += 1;
    }
    return refused;
  }

  async #run(): Promise<void> {
    this.#running = true;
    let idleRefills = 0;
    try {
      while (this.#waiters.length > 0) {
        const nowMs = this.#o.nowMs();
        this.#serve(nowMs);
        if (this.#waiters.length === 0) break;
        const first = this.#waiters[0]!.need;
        const cached = this.cachedRefusal(first, nowMs);
        if (cached !== undefined) {
          this.#refuseMatching(cached, this.#refusal?.fromTokens ?? 0);
          continue;
        }
        if (this.#lease !== undefined && nowMs >= this.#lease.expiresAtMs) this.#expire();
        const held: Units = this.#lease === undefined
          ? { requests: 0, modelTokens: 0 }
          : { requests: this.#lease.requests, modelTokens: this.#lease.modelTokens };
        const min = { requests: Math.max(0, first.requests - held.requests), modelTokens: Math.max(0, first.modelTokens - held.modelTokens) };
        const want = (): Units => {
          const demand = this.#waiters.reduce(
            (a, w) => ({ requests: a.requests + w.need.requests, modelTokens: a.modelTokens + w.need.modelTokens }),
            { requests: 0, modelTokens: 0 },
          );
          return {
            requests: topUp(held.requests, demand.requests, this.#o.chunk.requests, this.#o.maxGrant.requests, min.requests),
            modelTokens: topUp(held.modelTokens, demand.modelTokens, this.#o.chunk.modelTokens, this.#o.maxGrant.modelTokens, min.modelTokens),
          };
        };
        const unreturned = this.#unreturned;
        let result: RefillResult;
        try {
          result = await this.#o.refill({ nowMs, held, want, min, chunk: this.#o.chunk, unreturned });
        } catch (e) {
          const failed = this.#o.onRefillError(e);
          result = { ok: false, refusal: failed.refusal, cacheUntilMs: failed.cacheUntilMs, appliesFromTokens: 0, returned: false };
        }
        if (result.returned) this.#unreturned = this.#unreturned.filter((u) => !unreturned.includes(u));
        if (result.ok) {
          idleRefills = 0;
          const now = this.#o.nowMs();
          const carried = this.#lease !== undefined && now < this.#lease.expiresAtMs ? this.#lease : undefined;
          if (carried === undefined && this.#lease !== undefined) this.#expire();
          this.#lease = {
            requests: (carried?.requests ?? 0) + result.granted.requests,
            modelTokens: (carried?.modelTokens ?? 0) + result.granted.modelTokens,
            expiresAtMs: result.expiresAtMs,
            grantedAtMs: nowMs,
          };
          this.#serve(now);
          if (result.exhausted !== undefined) {
            this.#expire();
            this.#refusal = { refusal: result.exhausted.refusal, untilMs: result.exhausted.untilMs, fromTokens: 0 };
          }
          continue;
        }
        if (result.cacheUntilMs !== undefined) {
          this.#refusal = { refusal: result.refusal, untilMs: result.cacheUntilMs, fromTokens: result.appliesFromTokens };
        }
        const refused = this.#refuseMatching(result.refusal, result.appliesFromTokens);
        if (refused === 0) idleRefills += 1;
        // A refusal that fits none of the waiters (model tokens only) must not loop for ever.
        if (idleRefills >= MAX_IDLE_REFILLS) {
          for (const w of this.#waiters.splice(0)) w.resolve({ ok: false, refusal: result.refusal });
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

/** Tops the lease up to the demand (at least a chunk, at most `max` unless the first waiter alone needs more). */
function topUp(held: number, demand: number, chunk: number, max: number, min: number): number {
  if (held >= demand && min === 0) return 0;
  const target = Math.max(demand, chunk) - held;
  return Math.max(min, Math.min(Math.max(0, target), max));
}
