// Four writer PROCESSES append to the same chains through the real Cosmos SDK at once, each in group commits: the
// chains come out unforked and gap-free, with every writer's receipts present exactly once, at the id (chain, entry,
// leaf) its writer was told (T1-R: appends never serialize on one global lock).
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../../adapters/cosmos/cosmos-receipt-store';
import { verifyAuditLog } from '../../../core/audit/verify-chain';
import { redact } from '../../../core/secrets/redacted';
import { startCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import type { LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { keysOf, newKey } from '../../core/audit/audit-fixture';
import type { WriterConfig, WriterMessage } from './support/append-writer';
import { forkTs, runTs } from './support/run-ts';

const WRITERS = 4;
const PER_WRITER = 40;
const DATABASE = 'kars';
const key = newKey();
let server: LocalCosmosServer;

beforeAll(async () => {
  server = await startCosmosServer();
});
afterAll(async () => {
  await server?.stop();
});

function nextMessage(child: ChildProcess): Promise<WriterMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`writer exited with ${code} before reporting`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as WriterMessage);
    });
  });
}

describe('concurrent writer processes', () => {
  it('produce unforked, gap-free chains holding every receipt exactly once', async () => {
    const env = { WRITER_COSMOS_KEY: server.key, WRITER_SIGNING_KEY: key.secret };
    const children = Array.from({ length: WRITERS }, (_, writer) => {
      const config: WriterConfig = {
        writer, endpoint: server.endpoint, database: DATABASE, count: PER_WRITER, chainCount: 2, concurrency: 4, checkpointEvery: 3,
      };
      return forkTs('tests/integration/audit/support/append-writer.ts', [JSON.stringify(config)], env);
    });
    try {
      const ready = await Promise.all(children.map(nextMessage));
      expect(ready).toEqual(children.map(() => ({ type: 'ready' })));
      const done = children.map(nextMessage);
      children.forEach((c) => c.send('go')); // a barrier, so the writers really overlap
      const results = await Promise.all(done);
      const failures = results.filter((r) => r.type !== 'done');
      expect(failures.map((f) => JSON.stringify(f))).toEqual([]); // names the code a writer failed with
      const reports = results as Extract<WriterMessage, { type: 'done' }>[];
      // The writers did collide (otherwise this test would prove nothing) and resolved every collision.
      expect(reports.reduce((n, r) => n + r.conflicts, 0)).toBeGreaterThan(0);

      const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
      const container = (await ensureCosmosContainers(client, DATABASE, [RECEIPTS_CONTAINER])).get(RECEIPTS_CONTAINER.id)!;
      const store = createCosmosReceiptStore(container);
      const report = await verifyAuditLog(store, { trustedKeys: keysOf(key), layout: { prefix: 'audit', count: 2 } });
      expect(report.chains.map((c) => c.break)).toEqual([undefined, undefined]);
      expect(report.receipts).toBe(WRITERS * PER_WRITER);
      expect(report.chains.every((c) => c.validCheckpoints >= 1)).toBe(true);
      expect(report.entries).toBeLessThan(WRITERS * PER_WRITER); // batched

      // Every (writer, n) exactly once, stored under the id that writer was told.
      const stored = new Map<string, string>();
      for (const chain of ['audit-00', 'audit-01']) {
        let writersSeen = new Set<number>();
        for await (const rec of store.listEntries(chain)) {
          (rec.body['receipts'] as string[]).map((leaf) => JSON.parse(leaf) as { data: { w: number; n: number } }).forEach(({ data: d }, index) => {
            const k = `${d.w}/${d.n}`;
            expect(stored.has(k)).toBe(false);
            stored.set(k, `${rec.id}:${String(index).padStart(3, '0')}`);
            writersSeen.add(d.w);
          });
        }
        expect(writersSeen.size).toBe(WRITERS);
        writersSeen = new Set();
      }
      expect(stored.size).toBe(WRITERS * PER_WRITER);
      for (const [w, r] of reports.entries()) {
        expect(r.ids).toHaveLength(PER_WRITER);
        for (const id of r.ids) expect([...stored.entries()].find(([, sid]) => sid === id)?.[0].startsWith(`${w}/`)).toBe(true);
      }
      client.dispose();

      // And the operator's CLI agrees.
      const cli = await runTs('cli/main.ts', ['audit', 'verify', '--public-key', key.publicBase64, '--chain-count', '2'], {
        KARS_COSMOS_ENDPOINT: server.endpoint, KARS_COSMOS_KEY: server.key, KARS_COSMOS_DATABASE: DATABASE,
      });
      expect(cli.stderr).toBe('');
      expect(cli.stdout).toMatch(new RegExp(`^OK ${WRITERS * PER_WRITER} receipts in 2 chains \\(\\d+ entries\\), last checkpoint audit-0[01]@\\d+ `));
      expect(cli.code).toBe(0);
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    }
  }, 120_000);
});
