// T3-D "Router stampede on retry", through the router listener: the model proxy sends each call along its failover list.
// Defends: a failing deployment turning every agent call into a retry storm: chat is never sent twice to one deployment, embeddings are retried at most 3 attempts in all, and after 3 failures in 60 s a deployment is skipped (all unhealthy: 503 ROUTER_UPSTREAM_UNAVAILABLE + Retry-After, nothing sent).
// A scripted plain-HTTP upstream answers per deployment (the body's `model` in the OpenAI form) and counts what
// reached it; waits go through the Sleep port (recorded, not slept); the clock is frozen. Each mitigation off in turn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sleep } from '../../core/ports/sleep.port';
import type { UpstreamMitigation } from '../../core/router/upstream/call-with-failover';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';

const T0 = 1_800_000_000_000;
let identity: IdentityServer;
let upstream: TestUpstream;
/** Status each deployment answers (default 200). */
const answers = new Map<string, number>();
const modelOf = (body: string): string => (JSON.parse(body) as { model: string }).model;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream((req, res) => {
    const status = answers.get(modelOf(req.body)) ?? 200;
    if (status === 200) return okJson(res, { id: 'ok', model: modelOf(req.body) });
    res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '5' });
    res.end('{"error":{"code":"ServiceUnavailable"}}');
  });
});
afterAll(async () => {
  await upstream?.stop();
  await identity?.stop();
});

const FALLBACKS = new Map([['gpt-4o-mini', ['gpt-4o-mini-b']], ['text-embedding-3-small', ['text-embedding-3-small-b']]]);

async function router(disable: UpstreamMitigation[] = []): Promise<{ s: RouterStack; waits: number[] }> {
  const waits: number[] = [];
  const sleep: Sleep = async (ms) => { waits.push(ms); };
  const s = await startRouterStack({
    identity, upstreamUrl: upstream.url, clock: { nowMs: () => T0 }, fallbacks: FALLBACKS, sleep, _disableUpstream: disable,
  });
  return { s, waits };
}

async function call(s: RouterStack, op: 'chat/completions' | 'embeddings', model: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const body = op === 'embeddings' ? { model, input: 'x' } : { model, messages: [{ role: 'user', content: 'hi' }] };
  const r = await fetch(`${s.url}/v1/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, retryAfter: r.headers.get('retry-after') };
}

const seenSince = (n: number): string[] => upstream.seen.slice(n).map((r) => modelOf(r.body));

describe('T3-D failover and retries through the router', () => {
  it('ON: chat fails over once to the fallback (model rewritten), never resent to the same deployment', async () => {
    const { s, waits } = await router();
    try {
      answers.clear();
      answers.set('gpt-4o-mini', 503);
      let n = upstream.seen.length;
      expect(await call(s, 'chat/completions', 'gpt-4o-mini')).toMatchObject({ status: 200, body: { model: 'gpt-4o-mini-b' } });
      expect(seenSince(n)).toEqual(['gpt-4o-mini', 'gpt-4o-mini-b']);
      answers.set('gpt-4o-mini-b', 429);
      n = upstream.seen.length;
      const r = await call(s, 'chat/completions', 'gpt-4o-mini');
      expect(r.status).toBe(429); // the last answer is passed on
      expect(seenSince(n)).toEqual(['gpt-4o-mini', 'gpt-4o-mini-b']);
      expect(waits).toEqual([]);
    } finally { await s.stop(); }
  });

  it('ON: embeddings are retried, 3 attempts in all, with the backoff (250 ms, longer than the 5 ms retry-after-ms) before the retry', async () => {
    const { s, waits } = await router();
    try {
      answers.clear();
      answers.set('text-embedding-3-small', 503).set('text-embedding-3-small-b', 503);
      const n = upstream.seen.length;
      expect((await call(s, 'embeddings', 'text-embedding-3-small')).status).toBe(503);
      expect(seenSince(n)).toEqual(['text-embedding-3-small', 'text-embedding-3-small-b', 'text-embedding-3-small']);
      expect(waits).toEqual([250]);
    } finally { await s.stop(); }
  });

  it('ON: 3 failures in 60 s mark a deployment unhealthy; all unhealthy → 503 + Retry-After, nothing sent', async () => {
    const { s } = await router();
    try {
      answers.clear();
      answers.set('gpt-4o-mini', 500).set('gpt-4o-mini-b', 500);
      for (let i = 0; i < 3; i += 1) await call(s, 'chat/completions', 'gpt-4o-mini');
      const n = upstream.seen.length;
      const shed = await call(s, 'chat/completions', 'gpt-4o-mini');
      expect(shed).toMatchObject({ status: 503, body: { code: 'ROUTER_UPSTREAM_UNAVAILABLE' }, retryAfter: '30' });
      expect(upstream.seen.length).toBe(n);
    } finally { await s.stop(); }
  });

  it('OFF (idempotent-only): chat is sent again to a deployment that already failed', async () => {
    const { s } = await router(['idempotent-only']);
    try {
      answers.clear();
      answers.set('gpt-4o-mini', 503).set('gpt-4o-mini-b', 503);
      const n = upstream.seen.length;
      await call(s, 'chat/completions', 'gpt-4o-mini');
      expect(seenSince(n)).toEqual(['gpt-4o-mini', 'gpt-4o-mini-b', 'gpt-4o-mini']);
    } finally { await s.stop(); }
  });

  it('OFF (deployment-health): every call keeps reaching the failing deployments', async () => {
    const { s } = await router(['deployment-health']);
    try {
      answers.clear();
      answers.set('gpt-4o-mini', 500).set('gpt-4o-mini-b', 500);
      const n = upstream.seen.length;
      for (let i = 0; i < 6; i += 1) expect((await call(s, 'chat/completions', 'gpt-4o-mini')).status).toBe(500);
      expect(upstream.seen.length - n).toBe(12);
    } finally { await s.stop(); }
  });
});
