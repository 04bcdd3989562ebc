// T1-D (channel flood), limiter half: the global (500 rps, burst 1000) and per-agent (50 rps, burst 100) limits hold
// Defends: global-limit, agent-limit, shared-limit-store
// across Function instances. Three real OS processes share one Cosmos store (real @azure/cosmos SDK against the local
// server) and are offered several times the limit. Checked three ways:
//  - conservation, exact: the tokens the processes took from the shared bucket (read off their own If-Match writes)
//    never exceed what the bucket supplied, and every admission spent one of them — a lost update would break it;
//  - windows, on the answer times the processes saw: every window admits no more than the shared bucket held at its
//    start plus its refill, up to what leases shift (processes × chunk) and the answer delay J (the longest time from
//    calling admit to an "allowed" answer: tokens are taken after the call, so answers trail their take by less);
//    after the burst drains, every window that starts with the bucket drained is within 10 % of the limit (+ rate × J);
//  - the mean rate after the burst within 10 % of the limit.
// Conservation and the bucket bound are asserted on every run; how well the processes kept up (the 10 % windows, the
// mean) on the less starved of at most two runs, since other test files share the two cores.
// With the mitigation off — each process on its own in-memory store, as three independent in-process limiters would
// be — the same load gets about three times the limit through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { DOCUMENT_PARTITION_KEY_PATH, ensureCosmosContainers } from '../../adapters/cosmos/cosmos-containers';
import { limitDocumentKey } from '../../adapters/edge-limiter/limit-documents';
import { DEFAULT_AGENT_LIMIT, DEFAULT_GLOBAL_LIMIT } from '../../core/limits/edge-admission';
import { maxAdmittedInWindow, perSecond, type TokenBucketConfig } from '../../core/limits/token-bucket';
import { redact } from '../../core/secrets/redacted';
import { startCosmosServer, type LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import type { LoadResult, LoadScenario, LoadStream, Take } from '../integration/edge-limiter/limiter-load-worker';
import { slidingWindows, startLimiterWorkers, type LimiterWorkers } from '../integration/edge-limiter/multi-process-harness';

const PROCESSES = 3;
/** Above this answer delay a run is considered starved of CPU (see runShared). */
const STARVED_MS = 300;
const DURATION_MS = 4500;
const DATABASE = 'kars-t1d';
const CONTAINER = 'limits';

let server: LocalCosmosServer;
let workers: LimiterWorkers;
let run = 0;

beforeAll(async () => {
  server = await startCosmosServer();
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  await ensureCosmosContainers(client, DATABASE, [{ id: CONTAINER, partitionKeyPath: DOCUMENT_PARTITION_KEY_PATH }]);
  client.dispose();
  workers = await startLimiterWorkers(PROCESSES);
  expect(new Set(workers.children.map((c) => c.pid)).size).toBe(PROCESSES);
}, 60_000);

afterAll(async () => {
  await workers?.stop();
  await server?.stop();
});

interface Run {
  results: LoadResult[];
  prefix: string;
  startAtMs: number;
  endAtMs: number;
  /** Admission times of stream `i` over all processes. */
  admitted(i: number): number[];
  /** Takes from one bucket document over all processes, in bucket time order. */
  takes(partitionKey: string): Take[];
  /** Answer delay J: the longest time from calling admit to an "allowed" answer in any process. */
  delayMs: number;
}

async function runLoad(shared: boolean, limiter: LoadScenario['limiter'], streams: LoadStream[]): Promise<Run> {
  run += 1;
  const prefix = `t1d-run${run}`;
  // Children need ~1 s to be scheduled under load on two cores; all start offering at the same instant.
  const startAtMs = Date.now() + 1500;
  const store: LoadScenario['store'] = shared
    ? { kind: 'cosmos', endpoint: server.endpoint, key: server.key, databaseId: DATABASE, containerId: CONTAINER }
    : { kind: 'memory' };
  const results = await workers.run(() => ({
    store,
    limiter: { ...limiter, keyPrefix: prefix, instances: PROCESSES },
    startAtMs,
    durationMs: DURATION_MS,
    streams,
  }));
  expect(new Set(results.map((r) => r.pid)).size).toBe(PROCESSES);
  return {
    results,
    prefix,
    startAtMs,
    endAtMs: startAtMs + DURATION_MS,
    admitted: (i) => results.flatMap((r) => r.streams[i]!.admittedAtMs),
    takes: (pk) => results.flatMap((r) => r.takes[pk] ?? []).sort((a, b) => a[0] - b[0]),
    delayMs: Math.ceil(Math.max(...results.map((r) => r.maxAdmitLagMs))),
  };
}

function totals(r: Run): { admitted: number; writes: number; reads: number; conflicts: number; contended: number; storeFailures: number } {
  const sum = (f: (x: LoadResult) => number): number => r.results.reduce((a, x) => a + f(x), 0);
  return {
    admitted: sum((x) => x.stats.admitted),
    writes: sum((x) => x.stats.writes),
    reads: sum((x) => x.stats.reads),
    conflicts: sum((x) => x.stats.conflicts),
    contended: sum((x) => x.stats.contended),
    storeFailures: sum((x) => x.stats.storeFailures),
  };
}

/**
 * The checks common to both limits, on one shared bucket document:
 *  - conservation (exact): tokens taken ≤ supplied, admissions ≤ tokens taken;
 *  - every 1 s window [s, s + 1 s), burst included: admissions ≤ level(s − J) + rate × (1 s + J) + processes × chunk,
 *    level being the shared bucket's exact level from the take log: the processes together admit no more than the
 *    one bucket allows, up to what leases shift and the answer delay;
 *  - after the burst drained, every window that starts with the bucket drained (the processes keeping up) is within
 *    10 % of the rate plus rate × J, and such windows are most of them;
 *  - the mean rate after the burst within 10 % of the limit.
 */
function checkSharedBucket(
  label: string, on: Run, config: TokenBucketConfig, chunk: number, partitionKey: string, admitted: number[],
): { assertQuality: () => void } {
  const rate = config.refillTokens;
  const takes = on.takes(partitionKey);
  const taken = takes.reduce((a, t) => a + t[1], 0);
  const firstTakeMs = takes[0]![0];
  const lastTakeMs = takes[takes.length - 1]![0];
  const supplied = config.capacity + ((lastTakeMs - firstTakeMs) * rate) / 1000;
  const levelAt = (ms: number): number => {
    let i = -1;
    for (let lo = 0, hi = takes.length - 1; lo <= hi;) {
      const mid = (lo + hi) >> 1;
      if (takes[mid]![0] <= ms) { i = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (i < 0) return config.capacity;
    return Math.min(config.capacity, takes[i]![2] + ((ms - takes[i]![0]) * rate) / 1000);
  };
  const J = on.delayMs;
  const shift = PROCESSES * chunk;
  // The burst has drained at the first take that left less than a chunk in the bucket.
  const drainedAtMs = takes.find((t) => t[2] < chunk)?.[0];
  const sorted = [...admitted].sort((a, b) => a - b);
  let lo = 0;
  let hi = 0;
  let worstOverBucket = Number.NEGATIVE_INFINITY;
  let busiest = 0;
  const keptUp = { windows: 0, min: Number.POSITIVE_INFINITY, max: 0 };
  let steadyWindows = 0;
  for (let start = on.startAtMs - 1000; start + 1000 <= on.endAtMs; start += 1) {
    while (lo < sorted.length && sorted[lo]! < start) lo += 1;
    while (hi < sorted.length && sorted[hi]! < start + 1000) hi += 1;
    const n = hi - lo;
    busiest = Math.max(busiest, n);
    const bucketBound = levelAt(start - J) + (rate * (1000 + J)) / 1000 + shift;
    worstOverBucket = Math.max(worstOverBucket, n - bucketBound);
    if (drainedAtMs === undefined || start < drainedAtMs) continue;
    steadyWindows += 1;
    if (levelAt(start - J) > shift) continue;
    keptUp.windows += 1;
    keptUp.min = Math.min(keptUp.min, n);
    keptUp.max = Math.max(keptUp.max, n);
  }
  const steadyCount = admitted.filter((t) => t >= drainedAtMs! && t < on.endAtMs).length;
  const meanRate = (steadyCount * 1000) / (on.endAtMs - drainedAtMs!);
  const allowance = (rate * J) / 1000;
  const t = totals(on);
  console.log(`T1-D ${label}, shared Cosmos store, ${PROCESSES} processes: ${admitted.length} admitted, ${taken} tokens taken ` +
    `of ${Math.floor(supplied)} supplied; burst drained after ${(drainedAtMs ?? NaN) - on.startAtMs} ms; busiest 1 s window ` +
    `${busiest}; windows starting with the bucket drained (${keptUp.windows} of ${steadyWindows}) ${keptUp.min}..${keptUp.max} ` +
    `(limit ${rate}; delay J ${J} ms → +${Math.ceil(allowance)}); worst window vs. the bucket bound ${worstOverBucket.toFixed(1)}; ` +
    `mean after the burst ${meanRate.toFixed(1)}/s; chunk ${chunk}; store writes ${t.writes} ` +
    `(${(t.writes / t.admitted).toFixed(3)} per admitted), reads ${t.reads}, lost races ${t.conflicts}, contended ${t.contended}`);

  // Conservation across processes: only possible with working compare-and-swap on the shared document.
  expect(taken).toBeLessThanOrEqual(supplied);
  expect(admitted.length).toBeLessThanOrEqual(taken);
  expect(taken - admitted.length).toBeLessThanOrEqual(shift);
  // No window admits more than the one bucket allowed, burst included.
  expect(worstOverBucket).toBeLessThanOrEqual(0);
  expect(busiest).toBeLessThanOrEqual(maxAdmittedInWindow(config, 1000 + J) + shift);

  return {
    // How well the processes kept up with the bucket: depends on the machine not starving them of CPU.
    assertQuality() {
      expect(t.storeFailures).toBe(0);
      expect(taken).toBeGreaterThanOrEqual(supplied * 0.9);
      expect(busiest).toBeGreaterThan(config.capacity);
      expect(drainedAtMs).toBeDefined();
      expect(drainedAtMs! - on.startAtMs).toBeLessThan(2500);
      expect(keptUp.windows).toBeGreaterThan(steadyWindows / 2);
      expect(keptUp.max).toBeLessThanOrEqual(rate * 1.1 + allowance);
      expect(keptUp.min).toBeGreaterThanOrEqual(rate * 0.9 - allowance);
      expect(meanRate).toBeGreaterThanOrEqual(rate * 0.9);
      expect(meanRate).toBeLessThanOrEqual(rate * 1.1);
    },
  };
}

/**
 * Runs the shared-store scenario, asserting the invariants on every run. When the machine starved the processes
 * (answer delay above {@link STARVED_MS}: CPU taken by other test files on two cores), it runs once more and asserts
 * how well the limiter kept up on the less starved of the two runs.
 */
async function runShared(
  label: string, limiter: LoadScenario['limiter'], streams: LoadStream[], check: (on: Run) => { assertQuality: () => void },
): Promise<Run> {
  let on = await runLoad(true, limiter, streams);
  let quality = check(on);
  if (on.delayMs > STARVED_MS) {
    console.log(`T1-D ${label}: answer delay ${on.delayMs} ms > ${STARVED_MS} ms (processes starved of CPU); running again`);
    const again = await runLoad(true, limiter, streams);
    const againQuality = check(again);
    if (again.delayMs < on.delayMs) {
      on = again;
      quality = againQuality;
    }
  }
  quality.assertQuality();
  return on;
}

/** Mitigation off: each process has its own bucket; together they let about 3 × the limit through. */
function checkPerProcessStores(label: string, off: Run, config: TokenBucketConfig, admitted: number[], onAdmitted: number[]): void {
  const rate = config.refillTokens;
  const steady = slidingWindows(admitted, off.startAtMs + 1500, off.endAtMs);
  console.log(`T1-D ${label}, per-process in-memory stores (mitigation off): ${admitted.length} admitted (shared store: ` +
    `${onAdmitted.length}); every 1 s window after the bursts ${steady.min}..${steady.max} (limit ${rate})`);
  expect(steady.max).toBeGreaterThan(rate * 1.1 + (rate * off.delayMs) / 1000);
  expect(steady.min).toBeGreaterThanOrEqual(rate * PROCESSES * 0.8);
  expect(admitted.length).toBeGreaterThan(onAdmitted.length * 2);
}

// Agent and tenant limits far above the load, so the global bucket is the only one that binds.
const GLOBAL_ONLY: LoadScenario['limiter'] = {
  global: DEFAULT_GLOBAL_LIMIT,
  agent: perSecond(5000, 10_000),
  tenantBudget: { requestRate: perSecond(5000, 10_000) },
  cluster: false,
};
// 650 rps per process over 5 agents: 1950 rps offered, 3.9 × the global limit.
const GLOBAL_STREAMS: LoadStream[] = ['a0', 'a1', 'a2', 'a3', 'a4'].map((agentId) => ({ tenantId: 'tenant-a', agentId, perSec: 130 }));

// The seed's per-agent limit; one hot agent offered 60 rps per process (180 rps, 3.6 × its limit) and one calm agent
// offered 30 rps in total, under its limit.
const AGENT: LoadScenario['limiter'] = { global: DEFAULT_GLOBAL_LIMIT, agent: DEFAULT_AGENT_LIMIT, cluster: false };
const AGENT_STREAMS: LoadStream[] = [
  { tenantId: 'tenant-a', agentId: 'hot-agent', perSec: 60 },
  { tenantId: 'tenant-a', agentId: 'calm-agent', perSec: 10 },
];

describe('T1-D: the global limit holds across 3 processes sharing one Cosmos store', () => {
  it('admits the burst, then within 10 % of 500 per 1 s window; per-process stores admit about 3 ×', async () => {
    const allAgents = (r: Run): number[] => GLOBAL_STREAMS.flatMap((_, i) => r.admitted(i));
    const on = await runShared('global', GLOBAL_ONLY, GLOBAL_STREAMS, (r) =>
      checkSharedBucket('global', r, DEFAULT_GLOBAL_LIMIT, r.results[0]!.chunks['global']!, limitDocumentKey(r.prefix, 'global').partitionKey, allAgents(r)));
    const admitted = allAgents(on);

    const off = await runLoad(false, GLOBAL_ONLY, GLOBAL_STREAMS);
    checkPerProcessStores('global', off, DEFAULT_GLOBAL_LIMIT, GLOBAL_STREAMS.flatMap((_, i) => off.admitted(i)), admitted);
  }, 60_000);
});

describe('T1-D: the per-agent limit holds across 3 processes sharing one Cosmos store', () => {
  it('keeps the hot agent within 10 % of 50 per 1 s window while the calm agent is served; per-process stores admit about 3 ×', async () => {
    const on = await runShared('agent', AGENT, AGENT_STREAMS, (r) =>
      checkSharedBucket('agent', r, DEFAULT_AGENT_LIMIT, r.results[0]!.chunks['agent']!, limitDocumentKey(r.prefix, 'agent', 'hot-agent').partitionKey, r.admitted(0)));
    const hot = on.admitted(0);
    // The calm agent's own bucket is untouched by the hot one: never refused for its agent limit, and (short of a rare
    // fail-closed answer when every compare-and-swap attempt lost) everything it offered got through.
    const calmOffered = Math.floor((AGENT_STREAMS[1]!.perSec * DURATION_MS) / 1000) * PROCESSES;
    expect(on.results.reduce((a, r) => a + (r.streams[1]!.refusals['rate-limited:agent'] ?? 0), 0)).toBe(0);
    expect(on.admitted(1).length).toBeGreaterThanOrEqual(calmOffered * 0.95);

    const off = await runLoad(false, AGENT, AGENT_STREAMS);
    checkPerProcessStores('agent', off, DEFAULT_AGENT_LIMIT, off.admitted(0), hot);
  }, 60_000);
});
