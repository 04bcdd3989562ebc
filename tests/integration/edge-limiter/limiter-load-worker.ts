// Test helper (T1-D multi-process): one "Function instance" as a real OS process. The parent sends a scenario over
// IPC; this process builds the shared limiter on the real Cosmos SDK (or, with the mitigation off, on its own
// in-memory store), offers the scenario's load from a synchronised start, and reports every admission time, every
// take from a shared bucket (read off its own compare-and-swap writes) and how long it was not scheduled.
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { createSharedEdgeLimiter, type SharedEdgeLimiterOptions } from '../../../adapters/edge-limiter/shared-edge-limiter';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { DEFAULT_AGENT_LIMIT, DEFAULT_GLOBAL_LIMIT } from '../../../core/limits/edge-admission';
import { refill, type TokenBucketConfig, type TokenBucketState } from '../../../core/limits/token-bucket';
import type { DocumentBody, DocumentStore } from '../../../core/ports/document-store.port';
import { redact } from '../../../core/secrets/redacted';

export interface LoadStream {
  tenantId: string;
  agentId: string;
  /** Requests offered per second by this process (open loop: offered whether or not earlier ones were answered). */
  perSec: number;
  /** Model tokens reserved per request. */
  tokens?: number;
}

export interface LoadScenario {
  store: { kind: 'memory' } | { kind: 'cosmos'; endpoint: string; key: string; databaseId: string; containerId: string };
  /** JSON-serialisable limiter options (no clock, logger or functions). */
  limiter: Omit<SharedEdgeLimiterOptions, 'clock' | 'logger' | 'tenantBudget'> & { tenantBudget?: SharedEdgeLimiterOptions['tenantBudget'] & object };
  startAtMs: number;
  durationMs: number;
  streams: LoadStream[];
}

export interface StreamResult {
  /** Date.now() at each admission (when the limiter answered). */
  admittedAtMs: number[];
  refused: number;
  refusals: Record<string, number>;
}

/** One successful compare-and-swap on a bucket document: when (bucket time), how many tokens, and what was left. */
export type Take = [atMs: number, granted: number, leftTokens: number];

export interface LoadResult {
  pid: number;
  streams: StreamResult[];
  stats: ReturnType<ReturnType<typeof createSharedEdgeLimiter>['stats']>;
  chunks: Record<string, number>;
  /** Duration of the store writes (create/replace) in ms. */
  writeMs: { p50: number; p99: number; max: number };
  /** Longest time the load loop was not scheduled beyond its 2 ms tick (CPU starvation, GC). */
  maxStallMs: number;
  /**
   * Longest time from calling admit to an "allowed" answer. A request's tokens are taken after the call, so this
   * bounds how far an answer trails the take that paid for it (store round trips of every level it waited for,
   * plus any time the process was not scheduled).
   */
  maxAdmitLagMs: number;
  /** Takes from each bucket document this process wrote, by partition key. */
  takes: Record<string, Take[]>;
}

async function run(s: LoadScenario): Promise<LoadResult> {
  let inner: DocumentStore;
  if (s.store.kind === 'memory') {
    inner = new MemoryDocumentStore();
  } else {
    const client = createCosmosClient({ endpoint: s.store.endpoint, key: redact(s.store.key) }, { requestTimeoutMs: 5000 });
    inner = new CosmosDocumentStore(client.database(s.store.databaseId).container(s.store.containerId));
  }
  const global = s.limiter.global ?? DEFAULT_GLOBAL_LIMIT;
  const agent = s.limiter.agent ?? DEFAULT_AGENT_LIMIT;
  const bucketConfig = (pk: string): TokenBucketConfig => (pk.split(':')[1] === 'global' ? global : agent);
  // A successful If-Match write replaced exactly the version read with that etag: the difference is what was taken.
  const readStates = new Map<string, TokenBucketState>();
  const takes: Record<string, Take[]> = {};
  const logTake = (pk: string, doc: DocumentBody, previous: TokenBucketState | undefined): void => {
    if (doc['kind'] !== 'kars-limit-bucket') return;
    const next = doc['state'] as TokenBucketState;
    const config = bucketConfig(pk);
    const before = previous === undefined ? config.capacity * config.refillPeriodMs : refill(previous, next.atMs, config).level;
    (takes[pk] ??= []).push([next.atMs, (before - next.level) / config.refillPeriodMs, Math.floor(next.level / config.refillPeriodMs)]);
  };
  const writeMs: number[] = [];
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      writeMs.push(performance.now() - t0);
    }
  };
  const store: DocumentStore = {
    read: async (pk, id, o) => {
      const r = await inner.read(pk, id, o);
      if (r !== undefined && r.doc['kind'] === 'kars-limit-bucket') readStates.set(r.etag, r.doc['state'] as TokenBucketState);
      return r as never;
    },
    create: async (pk, d, o) => {
      const r = await timed(() => inner.create(pk, d, o));
      logTake(pk, d, undefined);
      return r;
    },
    replace: async (pk, d, o) => {
      const r = await timed(() => inner.replace(pk, d, o));
      logTake(pk, d, readStates.get(o.ifMatch));
      return r;
    },
    upsert: (pk, d, o) => inner.upsert(pk, d, o),
    delete: (pk, id, o) => inner.delete(pk, id, o),
    query: (pk, q, o) => inner.query(pk, q, o),
  };
  const limiter = createSharedEdgeLimiter(store, s.limiter as SharedEdgeLimiterOptions);
  // The SDK's first call fetches account and container metadata: do it before the clock starts.
  await store.read('warmup', 'warmup');
  const results: StreamResult[] = s.streams.map(() => ({ admittedAtMs: [], refused: 0, refusals: {} }));
  const fired = s.streams.map(() => 0);
  const inflight = new Set<Promise<void>>();
  while (Date.now() < s.startAtMs) await new Promise((r) => setTimeout(r, Math.min(20, s.startAtMs - Date.now())));
  const endAtMs = s.startAtMs + s.durationMs;
  let last = Date.now();
  let maxStallMs = 0;
  let maxAdmitLagMs = 0;
  for (;;) {
    const now = Date.now();
    maxStallMs = Math.max(maxStallMs, now - last - 2);
    last = now;
    if (now >= endAtMs) break;
    s.streams.forEach((stream, i) => {
      const due = Math.floor(((now - s.startAtMs) * stream.perSec) / 1000);
      for (; fired[i]! < due; fired[i]! += 1) {
        const calledAtMs = Date.now();
        const p = limiter.admit(stream.tenantId, stream.agentId, stream.tokens ?? 0).then((a) => {
          const r = results[i]!;
          if (a.outcome === 'allowed') {
            const at = Date.now();
            r.admittedAtMs.push(at);
            maxAdmitLagMs = Math.max(maxAdmitLagMs, at - calledAtMs);
            return;
          }
          r.refused += 1;
          const label = `${a.outcome}:${a.scope}`;
          r.refusals[label] = (r.refusals[label] ?? 0) + 1;
        });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
    });
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inflight);
  writeMs.sort((a, b) => a - b);
  const pick = (q: number): number => (writeMs.length === 0 ? 0 : writeMs[Math.min(writeMs.length - 1, Math.floor(writeMs.length * q))]!);
  return {
    pid: process.pid,
    streams: results,
    stats: limiter.stats(),
    chunks: { ...limiter.chunks },
    writeMs: { p50: pick(0.5), p99: pick(0.99), max: pick(1) },
    maxStallMs,
    maxAdmitLagMs,
    takes,
  };
}

process.on('message', (msg: { type: 'run'; scenario: LoadScenario } | { type: 'exit' }) => {
  if (msg.type === 'exit') {
    // The Cosmos client keeps sockets and timers; this process has nothing left to do.
    process.exit(0);
  }
  run(msg.scenario).then(
    (result) => process.send!({ type: 'result', result }),
    (e: unknown) => process.send!({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
process.send!({ type: 'ready' });
