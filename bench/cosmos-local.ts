// Benchmark: raw @azure/cosmos create rate on the local Cosmos stand-in with its journal (every create on disk before
// the answer) beside the same stand-in in memory, measured in the same run, at 1 and 16 creates in flight. Rounds
// alternate between the two so machine load hits both alike; the median round is reported.
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
  memoryPerSec: number;
  durablePerSec: number;
  /** durable / memory */
  ratio: number;
  /** Creates per fdatasync in the durable rounds (group commit). */
  recordsPerCommit: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function createRate(dataDir: string | undefined, inFlight: number, creates: number): Promise<{ perSec: number; commits: number }> {
  const server = await startCosmosServer(dataDir ? { dataDir } : {});
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
      const memory: number[] = [];
      const durable: number[] = [];
      let commits = 0;
      for (let r = 0; r < rounds; r += 1) {
        memory.push((await createRate(undefined, inFlight, creates)).perSec);
        const d = await createRate(join(dir, `r${inFlight}-${r}`), inFlight, creates);
        durable.push(d.perSec);
        commits += d.commits;
      }
      const f: CosmosLocalFigure = {
        inFlight, memoryPerSec: median(memory), durablePerSec: median(durable),
        ratio: median(durable) / median(memory), recordsPerCommit: (creates * rounds) / Math.max(1, commits),
      };
      figures.push(f);
      log(`local cosmos raw SDK create, ${inFlight} in flight, journal on (fdatasync before each answer): ${f.durablePerSec.toFixed(0)} docs/s, ` +
        `${f.recordsPerCommit.toFixed(1)} creates per fdatasync | anchor: same stand-in in memory ${f.memoryPerSec.toFixed(0)} docs/s ` +
        `(ratio ${f.ratio.toFixed(2)}, median of ${rounds} alternating rounds of ${creates})`);
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
