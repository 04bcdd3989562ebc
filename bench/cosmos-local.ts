// Benchmark: raw @azure/cosmos create rate on the local Cosmos stand-in with its journal (every create on disk before
// the answer) beside the same stand-in in memory and beside cosmosdb-server's own http server (the stand-in before it
// had a journal), measured in the same run, at 1 and 16 creates in flight. Rounds alternate between the three so
// machine load hits them alike; the median round is reported.
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '@zeit/cosmosdb-server';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCosmosClient } from '../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../adapters/cosmos/cosmos-containers';
import { redact } from '../core/secrets/redacted';
import { startCosmosServer } from '../infra/local/cosmos/start-cosmos-server';

export interface CosmosLocalBenchOptions {
  /** Creates per round. Default 600. */
  creates?: number;
  /** Rounds per mode and parallelism. Default 3. */
  rounds?: number;
  log?: (line: string) => void;
}

export interface CosmosLocalFigure {
  inFlight: number;
  /** cosmosdb-server's own createHttpServer: the stand-in as it was before the journal. */
  packagePerSec: number;
  memoryPerSec: number;
  durablePerSec: number;
  /** durable / memory */
  ratio: number;
  /** Creates per fdatasync in the durable rounds (group commit). */
  recordsPerCommit: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Mode = { kind: 'package' } | { kind: 'memory' } | { kind: 'journal'; dataDir: string };

/** cosmosdb-server as the stack ran it before (in memory, its own request loop). */
async function packageServer(): Promise<{ endpoint: string; key: string; journalStats: () => undefined; stop: () => Promise<void> }> {
  const srv = createHttpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`, key: 'ZGV2', journalStats: () => undefined,
    stop: () => new Promise<void>((r) => { srv.close(() => r()); srv.closeAllConnections(); }),
  };
}

async function createRate(mode: Mode, inFlight: number, creates: number): Promise<{ perSec: number; commits: number }> {
  const server = mode.kind === 'package' ? await packageServer() : await startCosmosServer(mode.kind === 'journal' ? { dataDir: mode.dataDir } : {});
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  try {
    const c = (await ensureCosmosContainers(client, 'bench', [{ id: 'docs' }])).get('docs')!;
    const commits0 = server.journalStats()?.commits ?? 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async (_, lane) => {
      while (next < creates) {
        next += 1;
        await c.items.create({ id: randomUUID(), pk: `p${lane % 4}`, kind: 'bench.create', data: { lane, pad: 'x'.repeat(300) } });
      }
    }));
    const perSec = creates / ((performance.now() - t0) / 1000);
    return { perSec, commits: (server.journalStats()?.commits ?? 0) - commits0 };
  } finally {
    client.dispose();
    await server.stop();
  }
}

export async function benchCosmosLocal(options?: CosmosLocalBenchOptions): Promise<CosmosLocalFigure[]> {
  const creates = options?.creates ?? 600;
  const rounds = options?.rounds ?? 3;
  const log = options?.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'kars-bench-cosmos-'));
  const figures: CosmosLocalFigure[] = [];
  try {
    for (const inFlight of [1, 16]) {
      const before: number[] = [];
      const memory: number[] = [];
      const durable: number[] = [];
      let commits = 0;
      for (let r = 0; r < rounds; r += 1) {
        before.push((await createRate({ kind: 'package' }, inFlight, creates)).perSec);
        memory.push((await createRate({ kind: 'memory' }, inFlight, creates)).perSec);
        const d = await createRate({ kind: 'journal', dataDir: join(dir, `r${inFlight}-${r}`) }, inFlight, creates);
        durable.push(d.perSec);
        commits += d.commits;
      }
      const f: CosmosLocalFigure = {
        inFlight, packagePerSec: median(before), memoryPerSec: median(memory), durablePerSec: median(durable),
        ratio: median(durable) / median(memory), recordsPerCommit: (creates * rounds) / Math.max(1, commits),
      };
      figures.push(f);
      log(`local cosmos raw SDK create, ${inFlight} in flight, journal on (fdatasync before each answer): ${f.durablePerSec.toFixed(0)} docs/s, ` +
        `${f.recordsPerCommit.toFixed(1)} creates per fdatasync | anchor: same stand-in in memory ${f.memoryPerSec.toFixed(0)} docs/s ` +
        `(ratio ${f.ratio.toFixed(2)}); before the journal (cosmosdb-server's own server) ${f.packagePerSec.toFixed(0)} docs/s ` +
        `(median of ${rounds} alternating rounds of ${creates})`);
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
