// T2-D "agent spam-saturates router": a flooding agent is held to its rate and to a bounded number of requests in flight.
// Defends: an agent (or a loop in it) flooding the router with model calls, or holding many requests open to exhaust it.
// Global 500 rps (burst 1000) and per agent 50 rps (burst 100): past them the router answers 429 with Retry-After and
// LIMIT_RATE_EXCEEDED before reading the body or calling the endpoint. A fixed number of requests in flight: past it,
// 503 ROUTER_OVERLOADED at once. With `rate-limits` / `concurrency-cap` off the whole flood reaches the endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { chatBody, okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';

const T0 = 1_800_000_000_000;
let identity: IdentityServer;
let upstream: TestUpstream;
let release: () => void = () => undefined;
let hold = false;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream(async (_req, res) => {
    if (hold) await new Promise<void>((r) => { const prev = release; release = () => { prev(); r(); }; });
    okJson(res);
  });
});
afterAll(async () => {
  release();
  await upstream?.stop();
  await identity?.stop();
});

const call = (s: RouterStack) => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });

async function flood(s: RouterStack, n: number): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < n; i += 50) out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => call(s)))));
  return out;
}

describe('T2-D rate limits (frozen clock: the counts are exact)', () => {
  it('ON: 300 requests in one instant → 100 pass (the agent burst), 200 get 429 + Retry-After; then 50 per second', async () => {
    const clock = { now: T0 };
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, clock: { nowMs: () => clock.now } });
    try {
      const before = upstream.seen.length;
      const rs = await flood(s, 300);
      const ok = rs.filter((r) => r.status === 200);
      const limited = rs.filter((r) => r.status === 429);
      expect(ok.length).toBe(100);
      expect(limited.length).toBe(200);
      expect(limited[0]!.headers.get('retry-after')).toBe('1');
      expect(((await limited[0]!.json()) as { code: string }).code).toBe('LIMIT_RATE_EXCEEDED');
      expect(upstream.seen.length - before).toBe(100);
      clock.now += 1000;
      const next = await flood(s, 100);
      expect(next.filter((r) => r.status === 200).length).toBe(50);
    } finally {
      await s.stop();
    }
  });

  it('OFF (rate-limits): the whole flood reaches the endpoint', async () => {
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url, clock: { nowMs: () => T0 }, _disable: ['rate-limits'] });
    try {
      const before = upstream.seen.length;
      const rs = await flood(s, 300);
      expect(rs.every((r) => r.status === 200)).toBe(true);
      expect(upstream.seen.length - before).toBe(300);
    } finally {
      await s.stop();
    }
  });
});

describe('T2-D bounded concurrency', () => {
  for (const off of [false, true]) {
    it(`${off ? 'OFF (concurrency-cap): all 12 held requests reach the endpoint' : 'ON: with 4 slots held, 8 more get 503 ROUTER_OVERLOADED at once'}`, async () => {
      const s = await startRouterStack({ identity, upstreamUrl: upstream.url, maxConcurrency: 4, ...(off ? { _disable: ['concurrency-cap'] } : {}) });
      hold = true;
      try {
        const before = upstream.seen.length;
        const held = Array.from({ length: 4 }, () => call(s));
        while (upstream.seen.length - before < 4) await new Promise((r) => setTimeout(r, 10));
        const more = Array.from({ length: 8 }, () => call(s));
        if (!off) {
          const rs = await Promise.all(more);
          expect(rs.map((r) => r.status)).toEqual(Array(8).fill(503));
          expect(((await rs[0]!.json()) as { code: string }).code).toBe('ROUTER_OVERLOADED');
          expect(upstream.seen.length - before).toBe(4);
        } else {
          while (upstream.seen.length - before < 12) await new Promise((r) => setTimeout(r, 10));
          expect(upstream.seen.length - before).toBe(12);
        }
        hold = false;
        release();
        expect((await Promise.all(held)).every((r) => r.status === 200)).toBe(true);
        if (off) expect((await Promise.all(more)).every((r) => r.status === 200)).toBe(true);
      } finally {
        hold = false;
        release();
        await s.stop();
      }
    });
  }
});
