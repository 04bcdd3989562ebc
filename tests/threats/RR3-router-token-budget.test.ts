// RR3 (token budgets at the router): every model call reserves the most it can use before it is sent and settles on the real usage.
// Defends: an agent (or many routers of one tenant) spending more model tokens than its sandbox, tenant or cluster budget allows, by racing concurrent calls, by breaking a stream before its usage arrives, or by leaving `max_tokens` unset.
// Real parts: the budget documents live in the local Cosmos server, reached through the @azure/cosmos SDK
// (adapters/cosmos), and two routers share them. The upstream is a scripted plain-HTTP stand-in that reports usage.
// With `token-budget` off, the concurrent calls all reach the upstream and the budget is overspent.
import type { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { DOCUMENT_PARTITION_KEY_PATH, ensureCosmosContainers } from '../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../adapters/cosmos/cosmos-document-store';
import { limitDocumentKey } from '../../adapters/edge-limiter/limit-documents';
import { createSharedTokenBudget, sandboxKey, type SharedTokenBudgetOptions } from '../../adapters/token-budget/shared-token-budget';
import { systemClock } from '../../core/ports/clock.port';
import { silentLogger } from '../../core/ports/logger.port';
import { redact } from '../../core/secrets/redacted';
import { startCosmosServer, type LocalCosmosServer } from '../../infra/local/cosmos/start-cosmos-server';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';

const HOUR = 3_600_000;
const MAX_TOKENS = 100;
const BODY = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'hi' }] });
/** What one call reserves: the body's bytes (prompt upper bound) + max_tokens. */
const R = Buffer.byteLength(BODY) + MAX_TOKENS;

let cosmos: LocalCosmosServer;
let client: CosmosClient;
let identity: IdentityServer;
let upstream: TestUpstream;
let run = 0;
/** How the upstream answers a stream: complete with usage, or cut after the first event. */
let streamMode: 'complete' | 'cut' = 'complete';

beforeAll(async () => {
  cosmos = await startCosmosServer();
  client = createCosmosClient({ endpoint: cosmos.endpoint, key: redact(cosmos.key) }, { requestTimeoutMs: 5000 });
  await ensureCosmosContainers(client, 'kars', [{ id: 'limits', partitionKeyPath: DOCUMENT_PARTITION_KEY_PATH, defaultTtlSec: -1 }]);
  identity = await startIdentityServer();
  upstream = await startTestUpstream(async (req, res) => {
    const body = JSON.parse(req.body) as { stream?: boolean };
    if (req.path.endsWith('/responses')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n');
      res.end('event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","usage":{"input_tokens":5,"output_tokens":4,"total_tokens":9}}}\n\n');
      return;
    }
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"c1","choices":[{"delta":{"content":"he"}}],"usage":null}\n\n');
      if (streamMode === 'cut') { await new Promise((r) => setTimeout(r, 20)); res.socket?.destroy(); return; }
      res.write('data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n');
      res.end('data: [DONE]\n\n');
      return;
    }
    // Worst case for the budget: every call uses all it reserved.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'c2', choices: [], usage: { prompt_tokens: R - MAX_TOKENS, completion_tokens: MAX_TOKENS, total_tokens: R } }));
  });
});
afterAll(async () => {
  await upstream?.stop();
  await identity?.stop();
  client?.dispose();
  await cosmos?.stop();
});

function budgetStore() {
  run += 1;
  const store = new CosmosDocumentStore(client.database('kars').container('limits'), { clock: systemClock });
  const prefix = `rr3r${run}`;
  const make = (o: Partial<SharedTokenBudgetOptions>) => createSharedTokenBudget(store, {
    sandboxDayTokens: 1_000_000, sandboxMonthTokens: 10_000_000, keyPrefix: prefix, clock: systemClock, logger: silentLogger, ...o,
  });
  const used = async (key: { partitionKey: string; id: string }, group: string, field: string): Promise<number> => {
    const doc = (await store.read(key.partitionKey, key.id))?.doc as Record<string, Record<string, { used: number }>> | undefined;
    return doc?.[group]?.[field]?.used ?? 0;
  };
  return { make, used, prefix };
}

const chat = (s: RouterStack, body = BODY) => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('RR3 token budgets at the router (local Cosmos, real SDK)', () => {
  it('ON: 50 concurrent calls against a sandbox day budget worth 10 → exactly 10 reach the model, none overspend', async () => {
    const { make, used, prefix } = budgetStore();
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, budget: make({ sandboxDayTokens: 10 * R }), sandboxId: 'sbx-a' });
    try {
      const before = upstream.seen.length;
      const rs = await Promise.all(Array.from({ length: 50 }, () => chat(s)));
      expect(rs.filter((r) => r.status === 200)).toHaveLength(10);
      const refused = rs.filter((r) => r.status !== 200);
      expect(new Set(refused.map((r) => r.status))).toEqual(new Set([403])); // the sandbox's day quota: spent until it resets
      expect(((await refused[0]!.json()) as { code: string }).code).toBe('ROUTER_TOKEN_QUOTA_SPENT');
      expect(upstream.seen.length - before).toBe(10);
      expect(await used(sandboxKey(prefix, 'sbx-a'), 'counters', 'day')).toBe(10 * R);
    } finally { await s.stop(); }
  });

  it('ON: two routers (two sandboxes of one tenant) racing on one cluster budget worth 10 never overspend it', async () => {
    const { make, used, prefix } = budgetStore();
    const cluster = { modelTokenQuota: { limit: 10 * R, periodMs: HOUR }, maxTenantShare: 1 };
    const a = await startRouterStack({ identity, upstreamUrl: upstream.url, budget: make({ cluster }), sandboxId: 'sbx-a' });
    const b = await startRouterStack({ identity, upstreamUrl: upstream.url, budget: make({ cluster }), sandboxId: 'sbx-b' });
    try {
      const before = upstream.seen.length;
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => chat(i % 2 === 0 ? a : b)));
      const ok = rs.filter((r) => r.status === 200).length;
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThanOrEqual(10);
      expect(upstream.seen.length - before).toBe(ok);
      const spent = await used(limitDocumentKey(prefix, 'cluster'), 'counters', 'modelTokens');
      expect(spent).toBe(ok * R);
      expect(spent).toBeLessThanOrEqual(10 * R);
      // The tenant's share of the cluster budget is drawn in the edge limiter's own tenant document.
      expect(await used(limitDocumentKey(prefix, 'tenant', 'test-tenant'), 'share', 'modelTokens')).toBe(ok * R);
    } finally { await a.stop(); await b.stop(); }
  });

  it('ON: a stream cut midway is charged the whole reservation; a complete one its reported usage (include_usage added)', async () => {
    const { make, used, prefix } = budgetStore();
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, budget: make({}), sandboxId: 'sbx-s' });
    const streamBody = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: MAX_TOKENS, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const reserved = Buffer.byteLength(streamBody) + MAX_TOKENS;
    try {
      streamMode = 'complete';
      const whole = await chat(s, streamBody);
      expect(await whole.text()).toContain('[DONE]');
      expect(JSON.parse(upstream.seen.at(-1)!.body)).toMatchObject({ stream_options: { include_usage: true } });
      await waitFor(async () => (await used(sandboxKey(prefix, 'sbx-s'), 'counters', 'day')) === 7);
      streamMode = 'cut';
      const cut = await chat(s, streamBody);
      await cut.text().catch(() => 'broken');
      await waitFor(async () => (await used(sandboxKey(prefix, 'sbx-s'), 'counters', 'day')) === 7 + reserved);
      const responses = await fetch(`${s.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', stream: true, max_output_tokens: 50 }) });
      await responses.text();
      await waitFor(async () => (await used(sandboxKey(prefix, 'sbx-s'), 'counters', 'day')) === 7 + reserved + 9);
    } finally { streamMode = 'complete'; await s.stop(); }
  });

  it('ON: a call that could use more than the per-request budget is refused before it is sent', async () => {
    const { make } = budgetStore();
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, budget: make({}) });
    try {
      const before = upstream.seen.length;
      const r = await chat(s, JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 1_000_000, messages: [] }));
      expect(r.status).toBe(403);
      expect(((await r.json()) as { code: string }).code).toBe('ROUTER_TOKEN_QUOTA_SPENT');
      expect(upstream.seen.length).toBe(before);
    } finally { await s.stop(); }
  });

  it('OFF (token-budget): all 50 concurrent calls reach the model, five times the budget', async () => {
    const { make } = budgetStore();
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, budget: make({ sandboxDayTokens: 10 * R }), _disable: ['token-budget'] });
    try {
      const before = upstream.seen.length;
      const rs = await Promise.all(Array.from({ length: 50 }, () => chat(s)));
      expect(rs.every((r) => r.status === 200)).toBe(true);
      expect(upstream.seen.length - before).toBe(50);
    } finally { await s.stop(); }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}
