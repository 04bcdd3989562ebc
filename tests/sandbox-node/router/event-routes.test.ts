// The event routes on the router listener, over a scripted relay: no relay → 503, strict query and no body, the
// per-agent rate limit applies, the relay's refusals map to their codes, and a poll whose agent hung up gives its
// events straight back.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KarsError, fail, ok, type Result } from '../../../core/errors';
import { systemClock } from '../../../core/ports/clock.port';
import { systemSleep } from '../../../core/ports/sleep.port';
import type { AgentEvent, EventRelay, PollOptions } from '../../../core/router/events/event-relay';
import { DEFAULT_ROUTER_LIMITS, type RouterLimits } from '../../../core/router/router-limiter';
import { createDeploymentHealth } from '../../../core/router/upstream/deployment-health';
import { createRouterServer, type RouterServer } from '../../../sandbox-node/router/router-server';
import { createUpstreamClient } from '../../../sandbox-node/router/upstream-client';
import { captureEvents } from '../../support/log-sink';

const event = (id: string): AgentEvent => ({
  id, deliveryCount: 0, ackByMs: 1, event: { tenantId: 't', sandboxId: 'sb', agentId: 'a', hookId: 'h', channel: 'standard', eventType: 'x', deliveryId: `d-${id}`, receiptId: 'r', receivedAtMs: 1, payload: {} },
});

function scriptedRelay(answer: (o: PollOptions) => Promise<Result<AgentEvent[]>>) {
  const calls: string[] = [];
  const relay: EventRelay = {
    inFlight: 0,
    poll: (o) => {
      calls.push(`poll ${o.max} ${o.waitMs}`);
      return answer(o);
    },
    ack: async (id) => {
      calls.push(`ack ${id}`);
      return id === 'gone' ? fail('ROUTER_EVENT_LEASE_UNKNOWN', 'no such event lease') : ok(undefined);
    },
    nack: async (id) => {
      calls.push(`nack ${id}`);
      return ok(undefined);
    },
    tick: async () => undefined,
    stopPolling: () => undefined,
    close: async () => undefined,
  };
  return { relay, calls };
}

const routers: RouterServer[] = [];
afterEach(async () => {
  for (const r of routers.splice(0)) await r.drain(100);
});

async function start(relay: EventRelay | undefined, limits: RouterLimits = DEFAULT_ROUTER_LIMITS): Promise<string> {
  const router = createRouterServer(
    { sandboxId: 'sb', agentId: 'sb', endpoint: new URL('http://127.0.0.1:9'), scope: 's', deployments: new Set(['m']), maxConcurrency: 8, maxBodyBytes: 1024, limits },
    {
      tokens: { getToken: async () => { throw new KarsError('IDENTITY_UNAVAILABLE', 'none'); } },
      upstream: createUpstreamClient({ timeoutMs: 1000 }), clock: systemClock, logger: captureEvents('router').logger,
      health: createDeploymentHealth(systemClock), sleep: systemSleep, ...(relay ? { events: relay } : {}),
    },
  );
  routers.push(router);
  await new Promise<void>((r) => router.server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(router.server.address() as AddressInfo).port}`;
}

const code = async (r: Response): Promise<[number, string]> => [r.status, ((await r.json()) as { code: string }).code];

describe('router event routes', () => {
  it('answer 503 ROUTER_EVENTS_UNAVAILABLE when the router has no event entity', async () => {
    const url = await start(undefined);
    expect(await code(await fetch(`${url}/v1/events`))).toEqual([503, 'ROUTER_EVENTS_UNAVAILABLE']);
  });

  it('poll, ack and nack reach the relay; refusals keep their codes', async () => {
    const s = scriptedRelay(async () => ok([event('e1')]));
    const url = await start(s.relay);
    const r = await fetch(`${url}/v1/events?wait=2&max=5`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await r.json()).toEqual({ events: [event('e1')] });
    expect((await fetch(`${url}/v1/events/e1/ack`, { method: 'POST' })).status).toBe(204);
    expect((await fetch(`${url}/v1/events/e1/nack`, { method: 'POST' })).status).toBe(204);
    expect(await code(await fetch(`${url}/v1/events/gone/ack`, { method: 'POST' }))).toEqual([404, 'ROUTER_EVENT_LEASE_UNKNOWN']);
    expect(s.calls).toEqual(['poll 5 2000', 'ack e1', 'nack e1', 'ack gone']);
    const full = await start(scriptedRelay(async () => fail('ROUTER_EVENTS_IN_FLIGHT_FULL', 'ack first')).relay);
    const refused = await fetch(`${full}/v1/events`);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await code(refused)).toEqual([429, 'ROUTER_EVENTS_IN_FLIGHT_FULL']);
  });

  it('refuses a bad query, a body, the wrong method, without calling the relay', async () => {
    const s = scriptedRelay(async () => ok([]));
    const url = await start(s.relay);
    expect(await code(await fetch(`${url}/v1/events?wait=31`))).toEqual([400, 'INPUT_INVALID']);
    expect(await code(await fetch(`${url}/v1/events/e1/ack`, { method: 'POST', body: 'x'.repeat(100) }))).toEqual([400, 'INPUT_INVALID']);
    expect(await code(await fetch(`${url}/v1/events/e1/ack`))).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(await code(await fetch(`${url}/v1/events/e1/drop`, { method: 'POST' }))).toEqual([404, 'NOT_FOUND']);
    expect(s.calls).toEqual([]);
  });

  it('draws on the per-agent rate limit (T2-D)', async () => {
    const s = scriptedRelay(async () => ok([]));
    const url = await start(s.relay, { globalRps: 100, globalBurst: 100, agentRps: 1, agentBurst: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/v1/events`)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('gives back the events of a poll whose agent hung up', async () => {
    let deliver: (v: Result<AgentEvent[]>) => void = () => undefined;
    const s = scriptedRelay(() => new Promise((r) => (deliver = r)));
    const url = await start(s.relay);
    const req = http.get(`${url}/v1/events?wait=10`);
    req.on('error', () => undefined);
    while (s.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    deliver(ok([event('e7'), event('e8')]));
    while (s.calls.length < 3) await new Promise((r) => setTimeout(r, 10));
    expect(s.calls.slice(1)).toEqual(['nack e7', 'nack e8']);
  });

  it('WebSocket: pushes leased events, answers ack / nack frames, refuses bad and oversized frames', async () => {
    let round = 0;
    const s = scriptedRelay(async (o) => {
      if (round++ === 0) return ok([event('w1')]);
      await new Promise<void>((r) => o.abortSignal?.addEventListener('abort', () => r(), { once: true }));
      return ok([]);
    });
    const url = await start(s.relay);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/events/ws`);
    const frames: Array<Record<string, unknown>> = [];
    const next = (): Promise<Record<string, unknown>> => new Promise((resolve) => {
      const take = (): void => {
        if (frames.length > 0) resolve(frames.shift()!);
        else setTimeout(take, 10);
      };
      take();
    });
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
    expect(await next()).toEqual({ type: 'event', ...event('w1') });
    ws.send(JSON.stringify({ type: 'ack', id: 'w1' }));
    expect(await next()).toEqual({ type: 'acked', id: 'w1' });
    ws.send(JSON.stringify({ type: 'nack', id: 'gone' }));
    expect(await next()).toEqual({ type: 'nacked', id: 'gone' });
    ws.send(JSON.stringify({ type: 'ack', id: 'gone' }));
    expect(await next()).toMatchObject({ type: 'error', id: 'gone', code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
    ws.send('{"type":"complete","id":"w1"}');
    expect(await next()).toMatchObject({ type: 'error', code: 'INPUT_INVALID' });
    const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    ws.send('x'.repeat(2000));
    expect(await closed).toBe(1009); // message too big
    expect(s.calls.filter((c) => !c.startsWith('poll'))).toEqual(['ack w1', 'nack gone', 'ack gone']);
  });

  it('WebSocket: refused without a relay (503) and on other paths (404)', async () => {
    const status = (url: string): Promise<number> => new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    const none = await start(undefined);
    expect(await status(`${none.replace('http', 'ws')}/v1/events/ws`)).toBe(503);
    const url = await start(scriptedRelay(async () => ok([])).relay);
    expect(await status(`${url.replace('http', 'ws')}/v1/chat/completions`)).toBe(404);
    expect(await code(await fetch(`${url}/v1/events/ws`))).toEqual([400, 'INPUT_INVALID']);
  });
});
