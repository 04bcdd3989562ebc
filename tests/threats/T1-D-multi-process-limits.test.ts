// T1-D (channel flood), limiter half: the global (500 rps, burst 1000) and per-agent (50 rps, burst 100) limits hold
// across Function instances. Three real OS processes share one Cosmos store (real @azure/cosmos SDK against the local
// server) and are offered several times the limit; every 1 s window after the burst drains stays within 10 % of the
// limit. With the mitigation off — each process on its own in-memory store, as three independent in-process limiters
// would be — the same load gets about three times the limit through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { DOCUMENT_PARTITION_KEY_PATH, ensureCosmosContainers } from '../../adapters/cosmos/cosmos-containers';
import { SEED_AGENT_LIMIT, SEED_GLOBAL_LIMIT } from '../../core/limits/edge-admission';
import { maxAdmittedInWindow, perSecond } from '../../core/limits/token-bucket';
import { redact } from '../../core/secrets/redacted';
import { startCosmosServer, type LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import type { LoadResult, LoadScenario, LoadStream } from '../integration/edge-limiter/limiter-load-worker';
import { burstDrainedAtMs, slidingWindows, startLimiterWorkers, type LimiterWorkers } from '../integration/edge-limiter/multi-process-harness';

const PROCESSES = 3;
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
  startAtMs: number;
  endAtMs: number;
  /** Admission times of stream `i` over all processes. */
  admitted(i: number): number[];
}

async function runLoad(shared: boolean, limiter: LoadScenario['limiter'], streams: LoadStream[]): Promise<Run> {
  run += 1;
  // Children need ~1 s to be scheduled under load on two cores; all start offering at the same instant.
  const startAtMs = Date.now() + 1500;
  const store: LoadScenario['store'] = shared
    ? { kind: 'cosmos', endpoint: server.endpoint, key: server.key, databaseId: DATABASE, containerId: CONTAINER }
    : { kind: 'memory' };
  const results = await workers.run(() => ({
    store,
    limiter: { ...limiter, keyPrefix: `t1d-run${run}`, instances: PROCESSES },
    startAtMs,
    durationMs: DURATION_MS,
    streams,
  }));
  expect(new Set(results.map((r) => r.pid)).size).toBe(PROCESSES);
  return {
    results,
    startAtMs,
    endAtMs: startAtMs + DURATION_MS,
    admitted: (i) => results.flatMap((r) => r.streams[i]!.admittedAtMs),
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

// Agent and tenant limits far above the load, so the global bucket is the only one that binds.
const GLOBAL_ONLY: LoadScenario['limiter'] = {
  global: SEED_GLOBAL_LIMIT,
  agent: perSecond(5000, 10_000),
  tenantBudget: { requestRate: perSecond(5000, 10_000) },
  cluster: false,
};
// 650 rps per process over 5 agents: 1950 rps offered, 3.9 × the global limit.
const GLOBAL_STREAMS: LoadStream[] = ['a0', 'a1', 'a2', 'a3', 'a4'].map((agentId) => ({ tenantId: 'tenant-a', agentId, perSec: 130 }));

// The seed's per-agent limit; one hot agent offered 60 rps per process (180 rps, 3.6 × its limit) and one calm agent
// offered 30 rps in total, under its limit.
const AGENT: LoadScenario['limiter'] = { global: SEED_GLOBAL_LIMIT, agent: SEED_AGENT_LIMIT, cluster: false };
const AGENT_STREAMS: LoadStream[] = [
  { tenantId: 'tenant-a', agentId: 'hot-agent', perSec: 60 },
  { tenantId: 'tenant-a', agentId: 'calm-agent', perSec: 10 },
];

/** Longest store write in the run: an answer trails the moment its tokens left the bucket by at most that. */
const maxWriteMs = (r: Run): number => Math.ceil(Math.max(...r.results.map((x) => x.writeMs.max)));

describe('T1-D: the global limit holds across 3 processes sharing one Cosmos store', () => {
  it('admits the burst, then within 10 % of 500 in every 1 s window; per-process stores admit about 3 ×', async () => {
    const config = SEED_GLOBAL_LIMIT;
    const rate = config.refillTokens;
    const on = await runLoad(true, GLOBAL_ONLY, GLOBAL_STREAMS);
    const chunk = on.results[0]!.chunks['global']!;
    const times = GLOBAL_STREAMS.flatMap((_, i) => on.admitted(i));
    const drainedAtMs = burstDrainedAtMs(times, config, Math.max(PROCESSES * chunk, config.capacity / 10));
    const all = slidingWindows(times, on.startAtMs - 1000, on.endAtMs + 1000);
    const steady = slidingWindows(times, drainedAtMs ?? on.endAtMs, on.endAtMs);
    const t = totals(on);
    console.log(`T1-D global, shared Cosmos store, ${PROCESSES} processes, ${DURATION_MS} ms at ${offered(GLOBAL_STREAMS)} rps offered: ` +
      `${times.length} admitted; busiest 1 s window ${all.max}; after the burst drained (${(drainedAtMs ?? NaN) - on.startAtMs} ms) ` +
      `every 1 s window ${steady.min}..${steady.max} (${steady.windows} windows); chunk ${chunk}; store writes ${t.writes} ` +
      `(${(t.writes / t.admitted).toFixed(3)} per admitted), reads ${t.reads}, lost races ${t.conflicts}, contended ${t.contended}; ` +
      `longest write ${maxWriteMs(on)} ms`);
    console.log(histogram(times, on.startAtMs, on.endAtMs));

    expect(t.storeFailures).toBe(0);
    expect(drainedAtMs).toBeDefined();
    expect(drainedAtMs! - on.startAtMs).toBeLessThan(2500);
    expect(steady.windows).toBeGreaterThan(1000);
    // Any window, burst included: the bucket's burst + 1 s of refill, plus what leases shift (processes × chunk),
    // plus the refill during the longest write (an answer trails its tokens' take by the write that committed it).
    expect(all.max).toBeLessThanOrEqual(maxAdmittedInWindow(config, 1000 + maxWriteMs(on)) + PROCESSES * chunk);
    expect(all.max).toBeGreaterThan(config.capacity);
    expect(steady.max).toBeLessThanOrEqual(rate * 1.1);
    expect(steady.min).toBeGreaterThanOrEqual(rate * 0.9);

    const off = await runLoad(false, GLOBAL_ONLY, GLOBAL_STREAMS);
    const offTimes = GLOBAL_STREAMS.flatMap((_, i) => off.admitted(i));
    const offDrained = burstDrainedAtMs(offTimes, { ...config, capacity: PROCESSES * config.capacity, refillTokens: PROCESSES * rate }, PROCESSES * config.capacity / 10);
    const offSteady = slidingWindows(offTimes, offDrained ?? off.startAtMs + 1000, off.endAtMs);
    console.log(`T1-D global, per-process in-memory stores (mitigation off): ${offTimes.length} admitted; every 1 s window ` +
      `after the bursts ${offSteady.min}..${offSteady.max} (limit ${rate})`);
    // Each process enforces the full limit on its own: the flood gets about 3 × through.
    expect(offSteady.max).toBeGreaterThan(rate * 1.1);
    expect(offSteady.min).toBeGreaterThanOrEqual(rate * PROCESSES * 0.8);
    expect(offTimes.length).toBeGreaterThan(times.length * 2);
  }, 60_000);
});

describe('T1-D: the per-agent limit holds across 3 processes sharing one Cosmos store', () => {
  it('keeps the hot agent within 10 % of 50 per 1 s window while the calm agent is served; per-process stores admit about 3 ×', async () => {
    const config = SEED_AGENT_LIMIT;
    const rate = config.refillTokens;
    const on = await runLoad(true, AGENT, AGENT_STREAMS);
    const chunk = on.results[0]!.chunks['agent']!;
    const hot = on.admitted(0);
    const drainedAtMs = burstDrainedAtMs(hot, config, Math.max(PROCESSES * chunk, config.capacity / 10));
    const all = slidingWindows(hot, on.startAtMs - 1000, on.endAtMs + 1000);
    const steady = slidingWindows(hot, drainedAtMs ?? on.endAtMs, on.endAtMs);
    const t = totals(on);
    console.log(`T1-D agent, shared Cosmos store, ${PROCESSES} processes: hot agent ${hot.length} admitted of ` +
      `${AGENT_STREAMS[0]!.perSec * PROCESSES} rps offered; busiest 1 s window ${all.max}; after the burst drained ` +
      `(${(drainedAtMs ?? NaN) - on.startAtMs} ms) every 1 s window ${steady.min}..${steady.max}; chunk ${chunk}; calm agent ` +
      `${on.admitted(1).length} admitted; store writes ${t.writes} (${(t.writes / t.admitted).toFixed(3)} per admitted), ` +
      `reads ${t.reads}, lost races ${t.conflicts}, contended ${t.contended}; longest write ${maxWriteMs(on)} ms`);
    console.log(histogram(hot, on.startAtMs, on.endAtMs));

    expect(t.storeFailures).toBe(0);
    expect(drainedAtMs).toBeDefined();
    expect(drainedAtMs! - on.startAtMs).toBeLessThan(2500);
    expect(all.max).toBeLessThanOrEqual(maxAdmittedInWindow(config, 1000 + maxWriteMs(on)) + PROCESSES * chunk);
    expect(all.max).toBeGreaterThan(config.capacity);
    expect(steady.max).toBeLessThanOrEqual(rate * 1.1);
    expect(steady.min).toBeGreaterThanOrEqual(rate * 0.9);
    // The calm agent's own bucket is untouched by the hot one: everything it offered got through.
    expect(on.results.reduce((a, r) => a + r.streams[1]!.refused, 0)).toBe(0);
    expect(on.admitted(1).length).toBeGreaterThanOrEqual(Math.floor((AGENT_STREAMS[1]!.perSec * DURATION_MS) / 1000) * PROCESSES - PROCESSES);

    const off = await runLoad(false, AGENT, AGENT_STREAMS);
    const offHot = off.admitted(0);
    const offDrained = burstDrainedAtMs(offHot, { ...config, capacity: PROCESSES * config.capacity, refillTokens: PROCESSES * rate }, PROCESSES * config.capacity / 10);
    const offSteady = slidingWindows(offHot, offDrained ?? off.startAtMs + 1000, off.endAtMs);
    console.log(`T1-D agent, per-process in-memory stores (mitigation off): hot agent ${offHot.length} admitted; every 1 s ` +
      `window after the bursts ${offSteady.min}..${offSteady.max} (limit ${rate})`);
    expect(offSteady.max).toBeGreaterThan(rate * 1.1);
    expect(offSteady.min).toBeGreaterThanOrEqual(rate * PROCESSES * 0.8);
    expect(offHot.length).toBeGreaterThan(hot.length * 2);
  }, 60_000);
});

const offered = (streams: LoadStream[]): number => streams.reduce((a, s) => a + s.perSec, 0) * PROCESSES;

function histogram(times: number[], from: number, to: number): string {
  const b: number[] = [];
  for (const t of times) { const i = Math.floor((t - from) / 100); b[i] = (b[i] ?? 0) + 1; }
  return Array.from({ length: Math.ceil((to - from) / 100) + 2 }, (_, i) => b[i] ?? 0).join(' ');
}
