// The hook routes through the real local Functions host, with Cosmos, the Service Bus broker and the local secrets
// file behind them.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHookRoutes, createLazyHookRoutes } from '../../../functions/hooks/hook-routes';
import { githubFixtures, standardFixture } from '../../core/webhook/fixtures';
import { SECRETS, signGithub, signStandard } from '../../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from './edge-stack';

let stack: EdgeStack;
beforeAll(async () => {
  stack = await startEdgeStack({ pipelineOptions: { maxBodyBytes: 64 * 1024 } });
});
afterAll(() => stack?.close());

const admin = (path: string, init: RequestInit & { key?: string | null } = {}) => {
  const { key, ...rest } = init;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(rest.headers as Record<string, string> | undefined) };
  if (key !== null) headers['x-functions-key'] = key ?? stack.masterKey;
  return fetch(`${stack.url}/api/manage/hooks${path}`, { ...rest, headers });
};

async function createHook(body: Record<string, unknown>): Promise<{ hookId: string }> {
  const r = await admin('', { method: 'POST', body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  return ((await r.json()) as { registration: { hookId: string } }).registration;
}

describe('hook route table', () => {
  it('declares the webhook route anonymous and the management routes admin, none under the reserved admin prefix', () => {
    const { routes } = createHookRoutes({} as never);
    expect(routes.map((r) => [r.name, r.methods.join(','), r.route, r.authLevel])).toEqual([
      ['hooksReceive', 'POST', 'hooks/{channel}/{hookId}', 'anonymous'],
      ['hooksCreate', 'POST', 'manage/hooks', 'admin'],
      ['hooksGet', 'GET', 'manage/hooks/{hookId}', 'admin'],
      ['hooksRotate', 'POST', 'manage/hooks/{hookId}/rotate', 'admin'],
    ]);
    // Azure/azure-functions-host#1781: function names and routes starting with "admin" are refused by the host.
    for (const r of routes) {
      expect(r.name.toLowerCase().startsWith('admin')).toBe(false);
      expect(r.route.toLowerCase().startsWith('admin')).toBe(false);
    }
    expect(createLazyHookRoutes(async () => { throw new Error('not built'); }).routes.map((r) => r.route)).toEqual(routes.map((r) => r.route));
  });
});

describe('management API (authLevel admin)', () => {
  it('requires the master key: none and the function key are both 401', async () => {
    const body = JSON.stringify({ tenantId: 't', sandboxId: 's', channel: 'github', allowedEventTypes: ['push'], secret: 'x-secret' });
    expect((await admin('', { method: 'POST', body, key: null })).status).toBe(401);
    expect((await admin('', { method: 'POST', body, key: 'wrong' })).status).toBe(401);
    expect((await admin('/hk-none', { key: null })).status).toBe(401);
  });

  it('creates, reads and rotates a registration; the secret is stored in the vault and never echoed', async () => {
    const secret = 'create-secret-canary-51e2';
    const r = await admin('', { method: 'POST', body: JSON.stringify({ hookId: 'hk-api-1', tenantId: 'tenant-a', sandboxId: 'sandbox-a', channel: 'github', allowedEventTypes: ['push'], secret }) });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe('/api/manage/hooks/hk-api-1');
    const text = await r.text();
    expect(text).not.toContain(secret);
    const { registration } = JSON.parse(text) as { registration: { secrets: Array<{ name: string }> } };
    expect((await stack.secrets.getSecret(registration.secrets[0]!.name)).reveal()).toBe(secret);

    const got = await admin('/hk-api-1');
    expect(got.status).toBe(200);
    expect(((await got.json()) as { registration: unknown }).registration).toEqual(registration);
    expect((await admin('/hk-nope-1')).status).toBe(404);

    const rotated = await admin('/hk-api-1/rotate', { method: 'POST', body: JSON.stringify({ secret: 'rotated-secret-canary-9a', previousGraceSec: 60 }) });
    expect(rotated.status).toBe(200);
    const rotatedText = await rotated.text();
    expect(rotatedText).not.toMatch(/rotated-secret-canary-9a|create-secret-canary-51e2/);
    expect((JSON.parse(rotatedText) as { registration: { secrets: unknown[]; revision: number } }).registration).toMatchObject({ revision: 2, secrets: [{}, { retiresAtMs: expect.any(Number) }] });
    expect((await admin('/hk-none-2/rotate', { method: 'POST', body: JSON.stringify({ secret: 'abc-secret' }) })).status).toBe(404);
    expect(stack.logs.join('\n')).not.toMatch(/canary-51e2|canary-9a/);
  });

  it('answers schema errors with field paths only, 409 for a duplicate id, 415 and 413 for bad bodies', async () => {
    const secret = 'bad-secret-canary-7c0f';
    const bad = await admin('', { method: 'POST', body: JSON.stringify({ tenantId: 'no spaces allowed', sandboxId: 's', channel: 'smtp', allowedEventTypes: [], secret, extra: 1 }) });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { code: string; message: string };
    expect(badBody.code).toBe('INPUT_INVALID');
    for (const field of ['tenantId', 'channel', 'allowedEventTypes', 'extra']) expect(badBody.message).toContain(field);
    expect(badBody.message).not.toContain(secret);
    // A secret that can never verify for its channel is refused at configuration time, without echoing it.
    const undecodable = await admin('', { method: 'POST', body: JSON.stringify({ tenantId: 't', sandboxId: 's', channel: 'standard', allowedEventTypes: ['a.b'], secret: 'whsec_!!' + secret }) });
    expect(undecodable.status).toBe(400);
    expect(await undecodable.text()).not.toContain(secret);

    await createHook({ hookId: 'hk-dup-9', tenantId: 't', sandboxId: 's', channel: 'github', allowedEventTypes: ['push'], secret: 'first-secret' });
    expect((await admin('', { method: 'POST', body: JSON.stringify({ hookId: 'hk-dup-9', tenantId: 't', sandboxId: 's', channel: 'github', allowedEventTypes: ['push'], secret: 'second-secret' }) })).status).toBe(409);
    expect((await admin('', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await admin('', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(20_000) }) })).status).toBe(413);
    expect(stack.logs.join('\n')).not.toContain(secret);
  });
});

/** Streams `total` bytes (declared or chunked) and resolves with the answer and how much was written by then. */
function streamUpload(url: string, total: number, declare: boolean): Promise<{ status: number; written: number; body: string }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (declare) headers['content-length'] = String(total);
    else headers['transfer-encoding'] = 'chunked';
    const req = request(url, { method: 'POST', headers });
    req.on('response', (res) => {
      answered = true;
      let b = '';
      res.on('data', (d: Buffer) => { b += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, written, body: b }));
    });
    req.on('error', (e) => { if (!answered) reject(e); });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = (): void => {
      if (answered || written >= total) { if (!answered) req.end(); return; }
      written += chunk.length;
      if (req.write(chunk)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}

describe('webhook route over HTTP', () => {
  it('accepts a signed delivery with 202 {receiptId} only once the broker holds it in the sandbox session', async () => {
    const hook = await createHook({ tenantId: 'tenant-a', sandboxId: 'sandbox-http-1', channel: 'standard', allowedEventTypes: ['contact.created'], secret: SECRETS.standard });
    const body = JSON.stringify(standardFixture);
    const r = await postHook(stack, 'standard', hook.hookId, body, signStandard(SECRETS.standard, 'msg_http_1', Math.floor(Date.now() / 1000), body));
    expect(r.status).toBe(202);
    const { receiptId } = (await r.json()) as { receiptId: string };
    expect((await stack.readReceipts()).find((x) => x.receiptId === receiptId)).toMatchObject({ outcome: 'accepted', subject: { hookId: hook.hookId, deliveryId: 'msg_http_1' } });
    const delivered = await stack.drain('sandbox-http-1');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ receiptId, tenantId: 'tenant-a', hookId: hook.hookId, eventType: 'contact.created', payload: standardFixture });
  });

  it('answers a GitHub ping (octokit-signed) with 200 and enqueues nothing', async () => {
    const hook = await createHook({ tenantId: 'tenant-a', sandboxId: 'sandbox-http-2', channel: 'github', allowedEventTypes: ['push'], secret: SECRETS.github });
    const ping = JSON.stringify(githubFixtures.ping);
    const r = await postHook(stack, 'github', hook.hookId, ping, await signGithub(SECRETS.github, 'ping-http-1', 'ping', ping));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    expect(await stack.drain('sandbox-http-2', 300)).toEqual([]);
  });

  it('answers 413 to a chunked body without Content-Length while the sender is still sending', async () => {
    const hook = await createHook({ tenantId: 'tenant-a', sandboxId: 'sandbox-http-3', channel: 'standard', allowedEventTypes: ['contact.created'], secret: SECRETS.standard });
    const total = 32 * 1024 * 1024;
    const result = await streamUpload(`${stack.url}/api/hooks/standard/${hook.hookId}`, total, false);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'HTTP_BODY_TOO_LARGE' });
    expect(result.written).toBeLessThan(total);
    expect((await stack.readReceipts()).find((x) => x.code === 'HTTP_BODY_TOO_LARGE')).toMatchObject({ outcome: 'rejected', code: 'HTTP_BODY_TOO_LARGE', subject: { bodyDigest: null } });
  });

  it('answers 413 to a declared oversize body without reading it, and 415 without reading; the host stays up', async () => {
    const hook = await createHook({ tenantId: 'tenant-a', sandboxId: 'sandbox-http-4', channel: 'standard', allowedEventTypes: ['contact.created'], secret: SECRETS.standard });
    const total = 16 * 1024 * 1024;
    const declared = await streamUpload(`${stack.url}/api/hooks/standard/${hook.hookId}`, total, true);
    expect(declared.status).toBe(413);
    expect(declared.written).toBeLessThan(total);
    for (let i = 0; i < 3; i += 1) {
      const r = await postHook(stack, 'standard', hook.hookId, 'x', { 'content-type': 'text/plain' });
      expect(r.status).toBe(415);
    }
    expect((await postHook(stack, 'standard', hook.hookId, '{}', {})).status).toBe(401);
  });
});
