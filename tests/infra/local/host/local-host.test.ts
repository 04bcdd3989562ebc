import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequest } from '@azure/functions';
import { startLocalHost, type LocalHost } from '../../../../infra/local/host/local-host';
import type { RouteDef } from '../../../../functions/route-def';

const lines: string[] = [];
const logger = {
  info: (e: string, f?: object) => lines.push(JSON.stringify({ e, ...f })),
  warn: (e: string, f?: object) => lines.push(JSON.stringify({ e, ...f })),
  error: (e: string, f?: object) => lines.push(JSON.stringify({ e, ...f })),
};
const keys = { functionKey: 'fk-canary-7d1f0c', masterKey: 'mk-canary-93ab2e' };

const echo: RouteDef = {
  name: 'echo',
  methods: ['POST'],
  route: 'echo/{channel}/{id:int?}',
  authLevel: 'anonymous',
  handler: async (req: HttpRequest) => {
    const bytes = new Uint8Array(await req.arrayBuffer());
    return { status: 200, jsonBody: { params: req.params, hex: Buffer.from(bytes).toString('hex'), ct: req.headers.get('content-type') } };
  },
};
const secured: RouteDef = { name: 'secured', methods: ['GET'], route: 'secured', authLevel: 'function', handler: async () => ({ status: 200, body: 'yes' }) };
const admin: RouteDef = { name: 'adminOnly', methods: ['GET'], route: 'admin-only', authLevel: 'admin', handler: async () => ({ status: 200, body: 'root' }) };
const boom: RouteDef = { name: 'boom', methods: ['GET'], route: 'boom', authLevel: 'anonymous', handler: async () => { throw new Error('secret detail mk-canary'); } };

let host: LocalHost;
beforeAll(async () => {
  host = await startLocalHost({ routes: [echo, secured, admin, boom], keys, logger, port: 0 });
});
afterAll(() => host.close());

describe('local Functions host', () => {
  it('passes params and the exact raw body bytes to the handler', async () => {
    const body = new Uint8Array([0xff, 0x00, 0x10, 0x80]);
    const r = await fetch(`${host.url}/api/echo/github/42`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ params: { channel: 'github', id: '42' }, hex: 'ff001080', ct: 'application/octet-stream' });
  });

  it('honours route constraints and optional segments', async () => {
    const ok = await fetch(`${host.url}/api/echo/slack`, { method: 'POST', body: 'x' });
    expect(((await ok.json()) as { params: unknown }).params).toEqual({ channel: 'slack' });
    const bad = await fetch(`${host.url}/api/echo/slack/notanint`, { method: 'POST', body: 'x' });
    expect(bad.status).toBe(404);
  });

  it('answers 405 with Allow for a known route and wrong method, 404 for unknown routes', async () => {
    const r = await fetch(`${host.url}/api/echo/github`, { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect((await fetch(`${host.url}/api/nope`)).status).toBe(404);
    expect((await fetch(`${host.url}/other`)).status).toBe(404);
  });

  it('requires the function key in the x-functions-key header for non-anonymous routes', async () => {
    expect((await fetch(`${host.url}/api/secured`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/secured`, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${host.url}/api/secured`, { headers: { 'x-functions-key': keys.functionKey } })).status).toBe(200);
    // A key in the query string is never accepted: it would land in access logs.
    expect((await fetch(`${host.url}/api/secured?code=${keys.functionKey}`)).status).toBe(401);
  });

  it('keeps admin routes for the master key only', async () => {
    expect((await fetch(`${host.url}/api/admin-only`, { headers: { 'x-functions-key': keys.functionKey } })).status).toBe(401);
    expect((await fetch(`${host.url}/api/admin-only`, { headers: { 'x-functions-key': keys.masterKey } })).status).toBe(200);
  });

  it('maps a throwing handler to a generic 500 without leaking its message', async () => {
    const r = await fetch(`${host.url}/api/boom`);
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain('canary');
  });

  it('logs route templates, never query strings or keys', async () => {
    await fetch(`${host.url}/api/secured?token=qs-canary-55&code=${keys.functionKey}`, { headers: { 'x-functions-key': keys.functionKey } });
    const all = lines.join('\n');
    expect(all).toContain('"route":"secured"');
    for (const canary of ['qs-canary-55', keys.functionKey, keys.masterKey, 'mk-canary']) expect(all).not.toContain(canary);
  });
});
