// Graceful drain (SIGTERM): a streamed answer in flight finishes; new connections are refused at once; the drain ends
// when the last request does. (The process-level SIGTERM → exit 0 is in tests/threats/T2-S-router-listener.test.ts.)
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { startRouterStack } from './router-stack';
import { chatBody, startTestUpstream, type TestUpstream } from './test-upstream';

let identity: IdentityServer;
let upstream: TestUpstream;
let finish: () => void = () => undefined;

beforeAll(async () => {
  identity = await startIdentityServer();
  upstream = await startTestUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"part":1}\n\n');
    await new Promise<void>((r) => (finish = r));
    res.end('data: [DONE]\n\n');
  });
});
afterAll(async () => {
  finish();
  await upstream?.stop();
  await identity?.stop();
});

function post(port: number, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(chatBody());
  });
}

describe('router drain', () => {
  it('lets the in-flight stream finish, refuses new work, then closes', async () => {
    const s = await startRouterStack({ identity, upstreamUrl: upstream.url });
    const port = Number(new URL(s.url).port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const inflight = post(port, agent);
    while (s.router.inFlight === 0 || upstream.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    const drained = s.router.drain(10_000);
    await new Promise((r) => setTimeout(r, 50));
    const fresh = await post(port, new http.Agent()).then((r) => r.status, (e: NodeJS.ErrnoException) => e.code);
    expect(fresh).toBe('ECONNREFUSED');
    finish();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.body).toContain('data: [DONE]');
    await drained;
    expect(s.router.inFlight).toBe(0);
    agent.destroy();
    await s.stop().catch(() => undefined);
  });
});
