// Test helper (T1-D multi-process): one "Function instance" as a real OS process. The parent sends a scenario over
// IPC; this process builds the shared limiter on the real Cosmos SDK (or, with the mitigation off, on its own
// in-memory store), offers the scenario's load from a synchronised start, and reports every admission time.
import { createSharedEdgeLimiter, type SharedEdgeLimiterOptions } from '../../../adapters/edge-limiter/shared-edge-limiter';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import type { DocumentStore } from '../../../core/ports/document-store.port';
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
  /** Date.now() at each admission. */
  admittedAtMs: number[];
  refused: number;
  /** First refusal time per answer, e.g. "rate-limited:global". */
  firstRefusalAtMs: Record<string, number>;
  refusals: Record<string, number>;
}

export interface LoadResult {
  pid: number;
  streams: StreamResult[];
  stats: ReturnType<ReturnType<typeof createSharedEdgeLimiter>['stats']>;
  chunks: Record<string, number>;
  /** Duration of the store writes (create/replace) in ms. */
  writeMs: { p50: number; p99: number; max: number };
}

async function run(s: LoadScenario): Promise<LoadResult> {
  let store: DocumentStore;
  if (s.store.kind === 'memory') {
    store = new MemoryDocumentStore();
  } else {
    const client = createCosmosClient({ endpoint: s.store.endpoint, key: redact(s.store.key) }, { requestTimeoutMs: 5000 });
    store = new CosmosDocumentStore(client.database(s.store.databaseId).container(s.store.containerId));
  }
  // Answers come after the write that took their tokens: the write's duration is how far an answer can trail the
  // moment its tokens left the shared bucket. Measured, so the test can allow for it.
  const writeMs: number[] = [];
  const inner = store;
  const timed = <T>(f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    return f().finally(() => writeMs.push(performance.now() - t0));
  };
  store = {
    read: (pk, id, o) => inner.read(pk, id, o),
    create: (pk, d, o) => timed(() => inner.create(pk, d, o)),
    replace: (pk, d, o) => timed(() => inner.replace(pk, d, o)),
    upsert: (pk, d, o) => inner.upsert(pk, d, o),
    delete: (pk, id, o) => inner.delete(pk, id, o),
    query: (pk, q, o) => inner.query(pk, q, o),
  } as DocumentStore;
  const limiter = createSharedEdgeLimiter(store, s.limiter as SharedEdgeLimiterOptions);
  // The SDK's first call fetches account and container metadata: do it before the clock starts.
  await store.read('warmup', 'warmup');
  const results: StreamResult[] = s.streams.map(() => ({ admittedAtMs: [], refused: 0, firstRefusalAtMs: {}, refusals: {} }));
  const fired = s.streams.map(() => 0);
  const inflight = new Set<Promise<void>>();
  while (Date.now() < s.startAtMs) await new Promise((r) => setTimeout(r, Math.min(20, s.startAtMs - Date.now())));
  const endAtMs = s.startAtMs + s.durationMs;
  for (;;) {
    const now = Date.now();
    if (now >= endAtMs) break;
    s.streams.forEach((stream, i) => {
      const due = Math.floor(((now - s.startAtMs) * stream.perSec) / 1000);
      for (; fired[i]! < due; fired[i]! += 1) {
        const p = limiter.admit(stream.tenantId, stream.agentId, stream.tokens ?? 0).then((a) => {
          const r = results[i]!;
          const at = Date.now();
          if (a.outcome === 'allowed') {
            r.admittedAtMs.push(at);
            return;
          }
          r.refused += 1;
          const label = `${a.outcome}:${a.scope}`;
          r.refusals[label] = (r.refusals[label] ?? 0) + 1;
          r.firstRefusalAtMs[label] ??= at;
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
    pid: process.pid, streams: results, stats: limiter.stats(), chunks: { ...limiter.chunks },
    writeMs: { p50: pick(0.5), p99: pick(0.99), max: pick(1) },
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
