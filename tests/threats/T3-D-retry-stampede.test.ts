// T3-D "Router stampede on retry": model calls through callWithFailover and the pinned upstream agent, over real TLS.
// Defends: retry storms against a failing model upstream: attempts per call are bounded (≤ 3), chat is never resent, and after 3 failures in 60 s a deployment is marked unhealthy so further calls are shed (503) instead of reaching it.
// The upstream stand-in (dev CA certificate, loopback) answers 503 or 429 to every request and counts them. Waits go
// through the Sleep port on a settable clock (recorded, not slept). Each mitigation is switched off in turn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { callWithFailover, type AttemptResult, type UpstreamMitigation } from '../../core/router/upstream/call-with-failover';
import { createDeploymentHealth } from '../../core/router/upstream/deployment-health';
import type { UpstreamCall } from '../../core/router/upstream/retry-policy';
import { ensureDevTls } from '../../infra/local/tls/dev-tls';
import { attemptErrorKind, createUpstreamAgent } from '../../sandbox-node/router/egress/upstream-agent';
import { settableClock } from '../core/edge/edge-fixture';

let server: https.Server;
let port: number;
const hits: string[] = [];
let answer: { status: number; headers: Record<string, string> } = { status: 503, headers: {} };

beforeAll(async () => {
  const dev = await ensureDevTls();
  server = https.createServer({ cert: dev.certPem, key: dev.keyPem }, (req, res) => {
    hits.push(req.url!.split('/')[3]!); // /openai/deployments/{d}/...
    req.resume();
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end('{"error":{"code":"ServiceUnavailable"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

function router(disable: UpstreamMitigation[] = []) {
  const clock = settableClock(0);
  const sleeps: number[] = [];
  const deps = { health: createDeploymentHealth(clock), clock, sleep: async (ms: number) => { sleeps.push(ms); clock.advance(ms); } };
  const agent = createUpstreamAgent({ endpoints: [{ host: 'localhost', port }] });
  const attempt = (call: UpstreamCall, path: string) => (deployment: string) =>
    new Promise<AttemptResult<number>>((resolve) => {
      const req = https.request({ host: 'localhost', port, method: call.method, path: `/openai/deployments/${deployment}/${path}`, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ outcome: { kind: 'response', status: res.statusCode!, header: (n) => res.headers[n] as string | undefined }, value: res.statusCode! }));
      });
      req.on('error', (e) => resolve({ outcome: { kind: attemptErrorKind(e) }, value: 0 }));
      req.end('{}');
    });
  const call = (c: UpstreamCall, path: string, deployments: string[]) =>
    callWithFailover(c, deployments, attempt(c, path), deps, { _disable: disable });
  return { call, sleeps, clock, close: () => agent.destroy() };
}

const embeddings: UpstreamCall = { method: 'POST', operation: 'embeddings' };
const chat: UpstreamCall = { method: 'POST', operation: 'chat' };

describe('T3-D a failing upstream under 20 calls', () => {
  it('ON: ≤ 3 attempts per call, both deployments marked unhealthy after 3 failures each, the rest shed', async () => {
    hits.length = 0;
    answer = { status: 503, headers: {} };
    const r = router();
    const results = [];
    for (let i = 0; i < 20; i += 1) results.push(await r.call(embeddings, 'embeddings', ['dep-a', 'dep-b']));
    r.close();
    expect(hits).toEqual(['dep-a', 'dep-b', 'dep-a', 'dep-a', 'dep-b', 'dep-b']);
    expect(results.slice(2).every((x) => x.kind === 'unavailable')).toBe(true);
    expect(results.slice(0, 2).map((x) => x.kind === 'done' && x.value)).toEqual([503, 503]);
    expect(r.sleeps).toEqual([250, 250]); // one retry per call: a fresh deployment is tried at once
  });

  it('OFF (deployment-health): every call reaches the upstream 3 times (60 requests)', async () => {
    hits.length = 0;
    const r = router(['deployment-health']);
    for (let i = 0; i < 20; i += 1) await r.call(embeddings, 'embeddings', ['dep-a', 'dep-b']);
    r.close();
    expect(hits).toHaveLength(60);
  });

  it('OFF (retry-bound, deployment-health): one call hammers the upstream far past 3 attempts', async () => {
    hits.length = 0;
    const r = router(['retry-bound', 'deployment-health']);
    await r.call(embeddings, 'embeddings', ['dep-a']);
    r.close();
    expect(hits.length).toBeGreaterThan(50);
  });
});

describe('T3-D chat is never resent to the same deployment', () => {
  it('ON: a 429 on the only deployment is answered once; Retry-After is not waited out for chat', async () => {
    hits.length = 0;
    answer = { status: 429, headers: { 'retry-after-ms': '400' } };
    const r = router();
    const res = await r.call(chat, 'chat/completions', ['dep-c']);
    r.close();
    expect(hits).toEqual(['dep-c']);
    expect(res).toMatchObject({ kind: 'done', value: 429, attempts: 1 });
    expect(r.sleeps).toEqual([]);
  });

  it('ON: embeddings honour retry-after-ms (400 ms) before the retry', async () => {
    hits.length = 0;
    const r = router();
    await r.call(embeddings, 'embeddings', ['dep-e']);
    r.close();
    expect(hits).toEqual(['dep-e', 'dep-e', 'dep-e']);
    expect(r.sleeps).toEqual([400, 750]);
  });

  it('OFF (idempotent-only): the chat request is sent 3 times (three billed generations)', async () => {
    hits.length = 0;
    const r = router(['idempotent-only']);
    await r.call(chat, 'chat/completions', ['dep-c']);
    r.close();
    expect(hits).toEqual(['dep-c', 'dep-c', 'dep-c']);
  });
});
