// T4-S "Peer claims someone else's identity" — one-time prekey reuse across Function instances
// Defends: each one-time prekey is handed out exactly once (If-Match pop on the agent's registry document), also to concurrent fetchers in different processes.
// Three real OS processes run the registry core on the real @azure/cosmos SDK against one local Cosmos server and
// fetch one agent's bundle concurrently, more fetches than prekeys. ON: every uploaded prekey is handed out exactly
// once and the surplus fetches get none (3-DH, spec §11.3). OFF (`_disable: ['opk-cas']`, last writer wins): some
// prekeys are handed to several initiators, so their X3DH sessions share DH4.
import { createLocalEdgeLimiter } from '../../adapters/edge/local-edge-limiter';
import { perSecond } from '../../core/limits/token-bucket';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../adapters/cosmos/cosmos-document-store';
import { createDocumentReplayGuard } from '../../adapters/edge/document-replay-guard';
import { MESH_AGENTS_CONTAINER, MESH_REPLAY_CONTAINER } from '../../adapters/mesh/mesh-containers';
import { createMeshRegistry } from '../../core/mesh/registry/mesh-registry';
import { systemClock } from '../../core/ports/clock.port';
import { redact } from '../../core/secrets/redacted';
import { startCosmosServer, type LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import type { FetchResult, FetchScenario } from '../integration/mesh/opk-fetch-worker';
import { transpileEntry } from '../integration/identity/run-standalone';
import { ed25519TimestampHeader, newAgent, prekeyBody, registerBody } from '../mesh/agt-sdk';

const PROCESSES = 3;
const OPKS = 30;
const FETCHES_PER_PROCESS = 15;
const DATABASE = 'kars-t4s-opk';

let server: LocalCosmosServer;
let outDir: string;
let children: ChildProcess[] = [];
const stderr: string[] = [];

type Msg = { type: 'ready' } | { type: 'result'; result: FetchResult } | { type: 'error'; message: string };
const next = (c: ChildProcess): Promise<Msg> => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`worker silent: ${stderr.join('')}`)), 120_000);
  c.once('message', (m: Msg) => { clearTimeout(timer); resolve(m); });
});

beforeAll(async () => {
  server = await startCosmosServer();
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  await ensureCosmosContainers(client, DATABASE, [MESH_AGENTS_CONTAINER, MESH_REPLAY_CONTAINER]);
  client.dispose();
  outDir = mkdtempSync(path.join(tmpdir(), 'kars-opk-'));
  const script = await transpileEntry('tests/integration/mesh/opk-fetch-worker.ts', outDir);
  const env = { PATH: process.env.PATH, NODE_PATH: path.join(process.cwd(), 'node_modules') };
  children = Array.from({ length: PROCESSES }, () => {
    const c = fork(script, [], { env, execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    c.stderr!.on('data', (b: Buffer) => stderr.push(b.toString('utf8')));
    return c;
  });
  await Promise.all(children.map(next));
}, 90_000);

afterAll(async () => {
  for (const c of children) if (c.connected) c.send({ type: 'exit' });
  await server?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function race(disable: FetchScenario['disable']): Promise<FetchResult[]> {
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  const containers = await ensureCosmosContainers(client, DATABASE, [MESH_AGENTS_CONTAINER, MESH_REPLAY_CONTAINER]);
  const registry = createMeshRegistry({
    agents: new CosmosDocumentStore(containers.get(MESH_AGENTS_CONTAINER.id)!),
    replay: createDocumentReplayGuard(new CosmosDocumentStore(containers.get(MESH_REPLAY_CONTAINER.id)!)),
    // Rates far above the race's: this test is about exactly-once hand-out, not T4-D.
    limiter: createLocalEdgeLimiter({ global: perSecond(100_000, 1_000_000), agent: perSecond(100_000, 1_000_000), tenantBudget: { requestRate: perSecond(100_000, 1_000_000) } }),
    clock: systemClock, sleep: async () => undefined, logger: { info() {}, warn() {}, error() {} },
  });
  const bob = newAgent(`bob-${disable.length}-${Date.now()}`);
  const owner = { sandboxId: `sb-${disable.length}-${process.pid}` };
  expect((await registry.register(owner, registerBody(bob) as never, null)).ok).toBe(true);
  const up = await registry.uploadPrekeys(owner, bob.did, prekeyBody(bob, OPKS) as never, ed25519TimestampHeader(bob, Date.now()));
  expect(up.ok).toBe(true);
  client.dispose();
  const startAtMs = Date.now() + 1500;
  const pending = children.map(next);
  for (const c of children) {
    c.send({ type: 'run', scenario: {
      endpoint: server.endpoint, key: server.key, databaseId: DATABASE, agentsContainer: MESH_AGENTS_CONTAINER.id,
      replayContainer: MESH_REPLAY_CONTAINER.id, did: bob.did, fetches: FETCHES_PER_PROCESS, startAtMs, disable,
    } satisfies FetchScenario });
  }
  return (await Promise.all(pending)).map((m) => {
    if (m.type !== 'result') throw new Error(m.type === 'error' ? m.message : 'unexpected');
    return m.result;
  });
}

describe('T4-S one-time prekeys under concurrent fetchers in 3 processes (real Cosmos SDK, local server)', () => {
  it('ON: every prekey handed out exactly once, surplus fetches get none', async () => {
    const results = await race([]);
    expect(new Set(results.map((r) => r.pid)).size).toBe(PROCESSES);
    const handed = results.flatMap((r) => r.handed);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(handed).toHaveLength(OPKS);
    expect(new Set(handed).size).toBe(OPKS);
    expect(results.reduce((n, r) => n + r.noKey, 0)).toBe(PROCESSES * FETCHES_PER_PROCESS - OPKS);
    // Every process won some pops: the race really was across processes.
    expect(results.filter((r) => r.handed.length > 0).length).toBeGreaterThan(1);
  }, 120_000);

  it('OFF: without If-Match some prekeys are handed to several fetchers', async () => {
    const results = await race(['opk-cas']);
    const handed = results.flatMap((r) => r.handed);
    expect(handed.length).toBeGreaterThan(new Set(handed).size);
  }, 120_000);
});
