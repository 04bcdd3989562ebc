// The shared edge limiter on the real @azure/cosmos SDK against the local Cosmos server: ETag compare-and-swap with
// real etags and 412s, documents and their expiry as Cosmos stores them, and fail-closed answers when the server goes.
import type { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { DOCUMENT_PARTITION_KEY_PATH, ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { limitDocumentKey } from '../../../adapters/edge-limiter/limit-documents';
import { createSharedEdgeLimiter, type SharedEdgeLimiterOptions } from '../../../adapters/edge-limiter/shared-edge-limiter';
import { DEFAULT_GLOBAL_LIMIT } from '../../../core/limits/edge-admission';
import { perSecond } from '../../../core/limits/token-bucket';
import { redact } from '../../../core/secrets/redacted';
import { startCosmosServer, type LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR) + 500;
const WIDE = perSecond(100_000, 200_000);

let server: LocalCosmosServer;
let client: CosmosClient;
let run = 0;

beforeAll(async () => {
  server = await startCosmosServer();
  client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) }, { requestTimeoutMs: 2000 });
  await ensureCosmosContainers(client, 'kars', [{ id: 'limits', partitionKeyPath: DOCUMENT_PARTITION_KEY_PATH, defaultTtlSec: -1 }]);
});

afterAll(async () => {
  client?.dispose();
  await server?.stop();
});

function setup(options: SharedEdgeLimiterOptions = {}) {
  run += 1;
  const clock = { t: T0, nowMs: () => clock.t };
  const store = new CosmosDocumentStore(client.database('kars').container('limits'), { clock });
  const make = (): ReturnType<typeof createSharedEdgeLimiter> =>
    createSharedEdgeLimiter(store, { clock, keyPrefix: `it${run}`, ...options });
  return { clock, store, make, prefix: `it${run}` };
}

describe('shared edge limiter on Cosmos (real SDK, local server)', () => {
  it('lets two instances together admit exactly the global burst, racing on real etags', async () => {
    const { make } = setup({ agent: WIDE, tenantBudget: { requestRate: WIDE }, cluster: false });
    const a = make();
    const b = make();
    const answers = await Promise.all(Array.from({ length: 1300 }, (_, i) => (i % 2 === 0 ? a : b).admit('t', `agent-${i % 5}`)));
    const admitted = answers.filter((x) => x.outcome === 'allowed').length;
    // Both instances drew from one bucket: at most its burst, and at most a chunk per instance short of it.
    expect(admitted).toBeLessThanOrEqual(DEFAULT_GLOBAL_LIMIT.capacity);
    expect(admitted).toBeGreaterThanOrEqual(DEFAULT_GLOBAL_LIMIT.capacity - 2 * a.chunks.global);
    expect(answers.find((x) => x.outcome !== 'allowed')).toMatchObject({ outcome: 'rate-limited', scope: 'global' });
    // Concurrent refills did collide: the 412s were retried, not turned into admissions.
    expect(a.stats().conflicts + b.stats().conflicts).toBeGreaterThan(0);
    expect(a.stats().admitted + b.stats().admitted).toBe(admitted);
  });

  it('stores small expiring documents with a Cosmos ttl, and reads an expired bucket as full', async () => {
    const { clock, make, prefix } = setup({ cluster: false, tenantBudget: { requestRate: WIDE } });
    const limiter = make();
    for (let i = 0; i < 100; i += 1) expect((await limiter.admit('t', 'agent')).outcome).toBe('allowed');
    expect(await limiter.admit('t', 'agent')).toMatchObject({ outcome: 'rate-limited', scope: 'agent' });
    const key = limitDocumentKey(prefix, 'agent', 'agent');
    const { resource } = await client.database('kars').container('limits').item(key.id, key.partitionKey).read<Record<string, unknown>>();
    expect(resource).toMatchObject({ kind: 'kars-limit-bucket', pk: key.partitionKey });
    expect(resource!['ttl']).toEqual(expect.any(Number));
    expect(resource!['expiresAtMs']).toBeGreaterThan(T0);
    // Long after expiry the local server still holds the item (it never purges), but it reads as absent: a full bucket.
    clock.t = (resource!['expiresAtMs'] as number) + 1;
    const fresh = make();
    let n = 0;
    while ((await fresh.admit('t', 'agent')).outcome === 'allowed') n += 1;
    expect(n).toBe(100);
  });

  it('shares a tenant quota and the cluster share between instances', async () => {
    const { make } = setup({
      tenantBudget: { requestRate: WIDE, modelTokenQuota: { limit: 10_000, periodMs: HOUR } },
      cluster: { modelTokenQuota: { limit: 8000, periodMs: HOUR }, maxTenantShare: 0.5 },
    });
    const a = make();
    const b = make();
    let tokens = 0;
    for (let i = 0; i < 20; i += 1) {
      if ((await (i % 2 ? a : b).admit('noisy', 'x', 500)).outcome === 'allowed') tokens += 500;
    }
    expect(tokens).toBe(4000); // the share (half of 8000), below the tenant's own 10 000
    expect(await a.admit('noisy', 'x', 0)).toMatchObject({ outcome: 'quota-spent', scope: 'tokens' });
    expect(await b.admit('quiet', 'y', 500)).toEqual({ outcome: 'allowed' });
  });

  it('fails closed with 429 and Retry-After when the Cosmos server is gone', async () => {
    const spare = await startCosmosServer();
    const spareClient = createCosmosClient({ endpoint: spare.endpoint, key: redact(spare.key) }, { requestTimeoutMs: 1000, maxThrottleRetries: 0 });
    await ensureCosmosContainers(spareClient, 'kars', [{ id: 'limits', partitionKeyPath: DOCUMENT_PARTITION_KEY_PATH }]);
    const clock = { t: T0, nowMs: () => clock.t };
    const limiter = createSharedEdgeLimiter(new CosmosDocumentStore(spareClient.database('kars').container('limits'), { clock }), {
      clock, storeTimeoutMs: 1500, unavailableRetryAfterMs: 2000,
    });
    expect(await limiter.admit('t', 'a')).toEqual({ outcome: 'allowed' });
    await spare.stop();
    clock.t += 10_000; // every lease has expired: the next request needs the store
    const started = Date.now();
    expect(await limiter.admit('t', 'a')).toEqual({ outcome: 'rate-limited', scope: 'global', retryAfterMs: 2000 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(limiter.stats().storeFailures).toBe(1);
    spareClient.dispose();
  });
});
