// Cosmos adapter edges with the real SDK: error translation, client and container bootstrap, item ttl, health probe deadlines.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { buildDocumentQuerySql, CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { createCosmosHealthProbe } from '../../../adapters/cosmos/cosmos-health-probe';
import { translateCosmosError } from '../../../adapters/cosmos/translate-cosmos-error';
import { isKarsError } from '../../../core/errors';
import { redact } from '../../../core/secrets/redacted';
import { startCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import type { LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { settledCode } from '../../support/settled-code';

let server: LocalCosmosServer;
let client: CosmosClient;

beforeAll(async () => {
  server = await startCosmosServer();
  client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
});
afterAll(async () => {
  client?.dispose();
  await server?.stop();
});

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Accepts TCP connections and never answers: a hung dependency. */
async function hungServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const srv: Server = createServer((s) => { sockets.push(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { sockets.forEach((s) => s.destroy()); srv.close(() => r()); }),
  };
}

describe('translateCosmosError with real SDK failures', () => {
  it('maps 409, 412 and 404 from the service', async () => {
    const container = (await ensureCosmosContainers(client, 'x', [{ id: 'errs' }])).get('errs')!;
    await container.items.create({ id: 'a', pk: 'p' });
    expect(translateCosmosError(await caught(container.items.create({ id: 'a', pk: 'p' })), 'create').code).toBe('STORE_CONFLICT');
    const stale = await caught(container.item('a', 'p').replace({ id: 'a', pk: 'p' }, { accessCondition: { type: 'IfMatch', condition: 'stale' } }));
    expect(translateCosmosError(stale, 'replace').code).toBe('STORE_PRECONDITION_FAILED');
    expect(translateCosmosError(await caught(container.item('zz', 'p').delete()), 'delete').code).toBe('STORE_NOT_FOUND');
  });

  it('maps a refused connection and a timeout to STORE_UNAVAILABLE without leaking the key', async () => {
    const dead = await startCosmosServer();
    await dead.stop();
    const key = 'Y2FuYXJ5LWtleS1kby1ub3QtbGVhaw==';
    const refused = createCosmosClient({ endpoint: dead.endpoint, key: redact(key) });
    const e1 = translateCosmosError(await caught(refused.database('db').read()), 'read');
    expect(e1.code).toBe('STORE_UNAVAILABLE');
    expect(e1.message).toContain('ECONNREFUSED');
    refused.dispose();
    const hung = await hungServer();
    const slow = createCosmosClient({ endpoint: hung.endpoint, key: redact(key) }, { requestTimeoutMs: 300 });
    const e2 = translateCosmosError(await caught(slow.database('db').read()), 'read');
    expect(e2.code).toBe('STORE_UNAVAILABLE');
    for (const e of [e1, e2]) expect(`${e.message} ${JSON.stringify(e)}`).not.toContain(key);
    slow.dispose();
    await hung.close();
  });

  it.each([
    [{ code: 429 }, 'STORE_UNAVAILABLE'], [{ code: 503 }, 'STORE_UNAVAILABLE'], [{ code: 408 }, 'STORE_UNAVAILABLE'],
    [{ code: 401 }, 'STORE_UNAVAILABLE'], [{ code: 403, substatus: 5301 }, 'STORE_UNAVAILABLE'], [{ code: 400 }, 'INTERNAL'],
    [{ statusCode: 409 }, 'STORE_CONFLICT'], [{ name: 'AbortError' }, 'STORE_UNAVAILABLE'], ['weird', 'STORE_UNAVAILABLE'],
  ])('maps %j to %s', (error, code) => {
    expect(translateCosmosError(error, 'op').code).toBe(code);
  });
});

describe('createCosmosClient', () => {
  it('refuses plain http to a non-loopback host and malformed endpoints', () => {
    for (const endpoint of ['http://cosmos.example.com:8081', 'not a url', 'ftp://127.0.0.1:1']) {
      let code = 'accepted';
      try {
        createCosmosClient({ endpoint, key: redact('a2V5') });
      } catch (e) {
        code = isKarsError(e) ? e.code : 'other';
      }
      expect(code).toBe('CONFIG_INVALID');
    }
    createCosmosClient({ endpoint: 'https://acct.documents.azure.com:443/', key: redact('a2V5') }).dispose();
  });
});

describe('ensureCosmosContainers', () => {
  it('is idempotent and creates /pk-partitioned containers with the requested TTL mode', async () => {
    const specs = [{ id: 'with-ttl', defaultTtlSec: -1 }, { id: 'plain' }];
    await ensureCosmosContainers(client, 'boot', specs);
    const again = await ensureCosmosContainers(client, 'boot', specs);
    const { resource: withTtl } = await again.get('with-ttl')!.read();
    const { resource: plain } = await again.get('plain')!.read();
    expect(withTtl?.partitionKey?.paths).toEqual(['/pk']);
    expect(withTtl?.defaultTtl).toBe(-1);
    expect(plain?.defaultTtl).toBeUndefined();
  });
});

describe('CosmosDocumentStore item ttl', () => {
  it('writes the Azure item ttl from expiresAtMs and hides it (and pk) from readers', async () => {
    const now = 1_800_000_000_000;
    const containers = await ensureCosmosContainers(client, 'ttl', [{ id: 'docs', defaultTtlSec: -1 }]);
    const container = containers.get('docs')!;
    const store = new CosmosDocumentStore(container, { clock: { nowMs: () => now } });
    await store.create('p', { id: 'lease', expiresAtMs: now + 90_500 });
    const { resource } = await container.item('lease', 'p').read();
    expect(resource?.['ttl']).toBe(91);
    expect(resource?.['pk']).toBe('p');
    expect((await store.read('p', 'lease'))?.doc).toEqual({ id: 'lease', expiresAtMs: now + 90_500 });
    const noTtl = new CosmosDocumentStore(container, { clock: { nowMs: () => now }, setItemTtl: false });
    await noTtl.create('p', { id: 'kept', expiresAtMs: now + 1000 });
    expect((await container.item('kept', 'p').read()).resource?.['ttl']).toBeUndefined();
  });

  it('never puts filter values into the SQL text', () => {
    const hostile = "x' OR 1=1 --";
    const spec = buildDocumentQuerySql('p"]', { where: [{ field: 'name', op: '=', value: hostile }], orderBy: { field: 'order' } }, 5);
    expect(spec.query).not.toContain(hostile);
    expect(spec.query).not.toContain('p"]');
    expect(spec.parameters).toEqual(expect.arrayContaining([{ name: '@p0', value: hostile }, { name: '@pk', value: 'p"]' }]));
    expect(spec.query).toContain('ORDER BY c["order"] ASC');
  });
});

describe('createCosmosHealthProbe', () => {
  it('passes against the live server', async () => {
    await ensureCosmosContainers(client, 'health', []);
    await createCosmosHealthProbe(client, { databaseId: 'health' }).check(AbortSignal.timeout(5000));
    await createCosmosHealthProbe(client).check(AbortSignal.timeout(5000));
  });

  it('reports a stopped server as down at once', async () => {
    const dead = await startCosmosServer();
    const deadClient = createCosmosClient({ endpoint: dead.endpoint, key: redact(dead.key) });
    await dead.stop();
    const t0 = performance.now();
    expect(await settledCode(createCosmosHealthProbe(deadClient).check(AbortSignal.timeout(2000)))).toBe('STORE_UNAVAILABLE');
    expect(performance.now() - t0).toBeLessThan(2000);
    deadClient.dispose();
  });

  it('reports a hung server as down within the 2 s deadline, even where the SDK ignores the abort signal', async () => {
    const hung = await hungServer();
    for (const endpointDiscovery of [false, true]) {
      const c = createCosmosClient({ endpoint: hung.endpoint, key: redact('a2V5') }, { endpointDiscovery });
      const t0 = performance.now();
      expect(await settledCode(createCosmosHealthProbe(c, { databaseId: 'db' }).check(AbortSignal.timeout(2000)))).toBe('DEPENDENCY_TIMEOUT');
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(2600);
      c.dispose();
    }
    await hung.close();
  });
});

describe('startCosmosServer', () => {
  it('serves on a fresh port, labels its key dev-only, stops idempotently, and reports a taken port', async () => {
    const s = await startCosmosServer({ port: 0 });
    expect(s.endpoint).toBe(`http://127.0.0.1:${s.port}`);
    expect(await settledCode(startCosmosServer({ port: s.port }))).toBe('DEPENDENCY_UNAVAILABLE');
    await Promise.all([s.stop(), s.stop()]);
  });
});
