// Durability of the local Cosmos stand-in, with the real SDK: a restart brings back every database, container and
// document exactly (etag, _rid, _ts, order), a torn last record is dropped, the journal compacts, and a SIGKILL in
// the middle of a write burst loses nothing that was acknowledged.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, CosmosClient, ItemDefinition } from '@azure/cosmos';
import Account from '@zeit/cosmosdb-server/lib/account';
import { afterAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { redact } from '../../../core/secrets/redacted';
import { handleCosmosRequest, type Durability } from '../../../infra/local/cosmos/handle-cosmos-request';
import { COSMOS_JOURNAL_FILE, startCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import type { LocalCosmosServer, StartCosmosServerOptions } from '../../../infra/local/cosmos/start-cosmos-server';

const ROOT = join(__dirname, '..', '..', '..');
const REGISTER = join(ROOT, 'tests', 'integration', 'audit', 'support', 'ts-register.cjs');
const MAIN = join(ROOT, 'infra', 'local', 'cosmos', 'main.ts');
const base = mkdtempSync(join(tmpdir(), 'kars-cosmos-journal-'));
let dirs = 0;
const freshDir = (): string => join(base, `d${++dirs}`);
afterAll(() => rmSync(base, { recursive: true, force: true }));

type Doc = ItemDefinition & Record<string, unknown>;

async function open(dataDir: string, extra?: StartCosmosServerOptions): Promise<{ server: LocalCosmosServer; client: CosmosClient }> {
  const server = await startCosmosServer({ dataDir, ...extra });
  return { server, client: createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) }) };
}

async function close(s: { server: LocalCosmosServer; client: CosmosClient }): Promise<void> {
  s.client.dispose();
  await s.server.stop();
}

/** Everything the SDK can see: databases, container definitions, every document with its system properties. */
async function dump(client: CosmosClient): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const db of (await client.databases.readAll().fetchAll()).resources) {
    const colls: Record<string, unknown> = {};
    for (const c of (await client.database(db.id).containers.readAll().fetchAll()).resources) {
      const docs = (await client.database(db.id).container(c.id).items.readAll().fetchAll()).resources;
      colls[c.id] = { def: c, docs };
    }
    out[db.id] = { def: db, colls };
  }
  return out;
}

const journalLines = (dir: string): string[] => readFileSync(join(dir, COSMOS_JOURNAL_FILE), 'utf8').split('\n').filter(Boolean);

async function mutate(containers: Map<string, Container>): Promise<void> {
  const a = containers.get('a')!;
  const b = containers.get('b')!;
  for (let i = 0; i < 40; i += 1) await a.items.create({ id: `d${i}`, pk: `p${i % 3}`, n: i, nested: { v: [i, 'x'] } });
  for (let i = 0; i < 10; i += 1) await a.item(`d${i}`, `p${i % 3}`).replace({ id: `d${i}`, pk: `p${i % 3}`, n: i * 100 });
  for (let i = 10; i < 15; i += 1) await a.item(`d${i}`, `p${i % 3}`).delete();
  await a.items.upsert({ id: 'u1', pk: 'p0', v: 1 });
  await a.items.upsert({ id: 'u1', pk: 'p0', v: 2 });
  await a.items.upsert({ id: 'd20', pk: 'p2', upserted: true });
  await a.items.batch([
    { operationType: 'Create', partitionKey: 'pb', resourceBody: { id: 'bt1', pk: 'pb' } },
    { operationType: 'Upsert', partitionKey: 'pb', resourceBody: { id: 'bt2', pk: 'pb', v: 'é∑😀' } },
  ], 'pb');
  await b.items.create({ id: 'only', pk: 'x', ttl: 5, expiresAtMs: 1 });
}

describe('local Cosmos stand-in: journal', () => {
  it('restores every database, container and document exactly after a clean restart', async () => {
    const dir = freshDir();
    let s = await open(dir);
    const containers = await ensureCosmosContainers(s.client, 'kars', [{ id: 'a' }, { id: 'b', defaultTtlSec: -1 }]);
    await ensureCosmosContainers(s.client, 'gone', [{ id: 'c' }]);
    await mutate(containers);
    await s.client.database('gone').delete();
    const before = await dump(s.client);
    const held = (await containers.get('a')!.item('d30', 'p0').read<Doc>()).resource!;
    const stale = (await containers.get('a')!.item('d5', 'p2').read<Doc>()).resource!;
    await containers.get('a')!.item('d5', 'p2').replace({ id: 'd5', pk: 'p2', n: -1 });
    const beforeAll = await dump(s.client);
    expect(before).not.toEqual(beforeAll);
    await close(s);

    s = await open(dir);
    expect(s.server.restored?.tornBytes).toBe(0);
    expect(await dump(s.client)).toEqual(beforeAll);
    const a = s.client.database('kars').container('a');
    // An ETag held across the restart still matches when nothing changed, and a stale one still fails.
    const replaced = await a.item('d30', 'p0').replace({ ...held, n: 'after' }, { accessCondition: { type: 'IfMatch', condition: held._etag! } });
    expect(replaced.statusCode).toBe(200);
    await expect(a.item('d5', 'p2').replace({ id: 'd5', pk: 'p2' }, { accessCondition: { type: 'IfMatch', condition: stale._etag! } }))
      .rejects.toMatchObject({ code: 412 });
    // Resource ids keep counting: a new document never takes the _rid of one created (or deleted) before the restart.
    const oldRids = new Set(JSON.stringify(beforeAll).match(/"_rid":"[^"]+"/g));
    const fresh = (await a.items.create({ id: 'new', pk: 'p0' })).resource!;
    expect(oldRids.has(`"_rid":"${fresh._rid}"`)).toBe(false);
    await expect(a.items.create({ id: 'd0', pk: 'p0' })).rejects.toMatchObject({ code: 409 });
    expect((await s.client.database('gone').read().catch((e: { code?: number }) => e)) as { code?: number }).toMatchObject({ code: 404 });
    await close(s);
  });

  it('drops a torn last record (it was never acknowledged) and keeps every record before it', async () => {
    const dir = freshDir();
    let s = await open(dir);
    const c = (await ensureCosmosContainers(s.client, 'kars', [{ id: 'a' }])).get('a')!;
    for (let i = 0; i < 5; i += 1) await c.items.create({ id: `d${i}`, pk: 'p' });
    const before = await dump(s.client);
    await close(s);
    const file = join(dir, COSMOS_JOURNAL_FILE);
    const last = journalLines(dir).at(-1)!;
    // A crash mid-append: the first bytes of a record, no newline.
    appendFileSync(file, last.slice(0, Math.floor(last.length / 2)));
    const tornSize = statSync(file).size;

    s = await open(dir);
    expect(s.server.restored?.tornBytes).toBe(Math.floor(last.length / 2));
    expect(statSync(file).size).toBeLessThan(tornSize);
    expect(await dump(s.client)).toEqual(before);
    // Appends after the cut are readable on the next start (they do not hide behind the torn bytes).
    await s.client.database('kars').container('a').items.create({ id: 'after', pk: 'p' });
    const after = await dump(s.client);
    await close(s);

    // A whole line whose checksum does not match is torn too (a sector that was never written).
    appendFileSync(file, `00000000 ${last.slice(9)}\n`);
    s = await open(dir);
    expect(s.server.restored?.tornBytes).toBe(last.length + 1);
    expect(await dump(s.client)).toEqual(after);
    await close(s);
  });

  it('compacts the journal into a snapshot plus tail, at start and while running, without changing the state', async () => {
    const dir = freshDir();
    let s = await open(dir, { compactFactor: 1, compactSlack: 20 });
    const c = (await ensureCosmosContainers(s.client, 'kars', [{ id: 'a' }])).get('a')!;
    await c.items.create({ id: 'hot', pk: 'p' });
    for (let i = 0; i < 5; i += 1) await c.items.create({ id: `cold${i}`, pk: 'p' });
    // 200 versions of one document: without compaction the file would hold 200+ records.
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 25; i += 1) await c.items.upsert({ id: 'hot', pk: 'p', w, i });
    }));
    await c.item('cold0', 'p').delete();
    const lines = journalLines(dir);
    expect(lines.length).toBeLessThan(60);
    const before = await dump(s.client);
    await close(s);

    s = await open(dir);
    expect(await dump(s.client)).toEqual(before);
    // The start rewrote what was left (a delete, superseded versions) as the live items only.
    const snapshot = journalLines(dir);
    expect(snapshot).toHaveLength(1 + 1 + 5); // database, container, hot + cold1..4
    expect(snapshot.join('\n')).not.toContain('"t":"del"');
    await close(s);
  });

  it('loses no acknowledged write when the process is SIGKILLed in the middle of a write burst', async () => {
    const dir = freshDir();
    const acked = new Map<string, string>();
    // Four kill-restart rounds on one directory; each kill lands right as an acknowledgement arrives, when a server
    // that answered before its fsync would still hold that record in memory only.
    for (let round = 0; round < 4; round += 1) {
      const child = spawn(process.execPath, ['-r', REGISTER, MAIN, '--port', '0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /cosmos server listening on (\d+)/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
          setTimeout(() => reject(new Error('no listening line within 20 s')), 20_000);
        });
        const client = createCosmosClient({ endpoint: `http://127.0.0.1:${port}`, key: redact('ZGV2') }, { requestTimeoutMs: 5000 });
        const c = (await ensureCosmosContainers(client, 'kars', [{ id: 'a' }])).get('a')!;
        const killAt = acked.size + 200;
        await Promise.all(Array.from({ length: 16 }, async (_, w) => {
          for (let i = 0; ; i += 1) {
            const id = `r${round}-w${w}-${i}`;
            try {
              const r = await c.items.create({ id, pk: `p${w % 4}`, body: 'x'.repeat(200) });
              acked.set(id, r.resource!._etag!);
              if (acked.size === killAt) process.kill(child.pid!, 'SIGKILL');
            } catch {
              return; // the server is gone
            }
          }
        }));
        client.dispose();
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      const s = await open(dir);
      const docs = (await s.client.database('kars').container('a').items.readAll<Doc>().fetchAll()).resources;
      const byId = new Map(docs.map((d) => [d.id, d._etag]));
      expect([...acked].filter(([id, etag]) => byId.get(id) !== etag), `round ${round}`).toEqual([]);
      // At most the writes in flight at each kill (16 writers) may be there without an acknowledgement.
      expect(docs.length - acked.size).toBeLessThanOrEqual(16 * (round + 1));
      await close(s);
    }
  }, 120_000);

  it('holds every response until the journal says durable, and answers 503 once the journal has failed', async () => {
    let release!: () => void;
    let failed = false;
    const gate = new Promise<void>((r) => { release = r; });
    const durability: Durability = { durable: () => (failed ? Promise.reject(new Error('disk')) : gate), failed: () => failed };
    let account: Account | undefined;
    const srv = createServer((req, res) => handleCosmosRequest(account!, durability, req, res));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as AddressInfo;
    account = new Account('127.0.0.1', port);
    const client = createCosmosClient({ endpoint: `http://127.0.0.1:${port}`, key: redact('ZGV2') }, { requestTimeoutMs: 5000 });
    try {
      let answered = false;
      const created = client.databases.create({ id: 'held' }).then((r) => { answered = true; return r; });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      release();
      expect((await created).statusCode).toBe(201);
      failed = true;
      await expect(client.database('held').read()).rejects.toMatchObject({ code: 503 });
    } finally {
      client.dispose();
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });

  it('keeps the in-memory mode when no data directory is given', async () => {
    const s = await startCosmosServer();
    expect(s.restored).toBeUndefined();
    await s.stop();
  });
});
