// The router's receipt transport: the token file is read on every request (the kubelet rotates it) and travels in
// `x-kars-router-token` only; 200 → ids; 400/413/415 → drop; 401/403/429/5xx and network errors → retry (Retry-After
// honoured); a 200 whose ids do not match the batch is not taken as shipped.
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpReceiptTransport } from '../../../../sandbox-node/router/audit/http-receipt-transport';
import { modelReceipt } from './receipt-fixture';

let answer: (res: http.ServerResponse, body: { receipts: unknown[] }) => void = () => undefined;
const seen: Array<{ url: string; token: string | undefined; count: number }> = [];
let server: http.Server;
let base: URL;
const dir = mkdtempSync(join(tmpdir(), 'kars-transport-'));
const tokenFile = join(dir, 'token');

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => { text += c.toString(); });
    req.on('end', () => {
      const body = JSON.parse(text) as { receipts: unknown[] };
      seen.push({ url: req.url ?? '', token: req.headers['x-kars-router-token'] as string | undefined, count: body.receipts.length });
      answer(res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => { await new Promise<void>((r) => server.close(() => r())); });

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('HTTP receipt transport', () => {
  it('posts the batch with the current token and maps the answers', async () => {
    const t = createHttpReceiptTransport({ baseUrl: base, tokenFile });
    const batch = [modelReceipt(1), modelReceipt(2)];
    writeFileSync(tokenFile, 'token-one\n');
    answer = (res, b) => json(res, 200, { ids: b.receipts.map((_, i) => `audit-00:000000000001:00${i}`) });
    expect(await t.ship(batch)).toEqual({ ok: true, ids: ['audit-00:000000000001:000', 'audit-00:000000000001:001'] });
    writeFileSync(tokenFile, 'token-two');
    answer = (res) => json(res, 200, { ids: ['only-one'] });
    expect(await t.ship(batch)).toMatchObject({ ok: false, action: 'retry' });
    expect(seen.slice(-2).map((s) => [s.url, s.token, s.count])).toEqual([['/api/audit/router-receipts', 'token-one', 2], ['/api/audit/router-receipts', 'token-two', 2]]);

    answer = (res) => json(res, 400, { code: 'INPUT_INVALID', message: 'invalid request' });
    expect(await t.ship(batch)).toEqual({ ok: false, action: 'drop', code: 'INPUT_INVALID' });
    answer = (res) => json(res, 403, { code: 'AUTH_FORBIDDEN', message: 'forbidden' });
    expect(await t.ship(batch)).toEqual({ ok: false, action: 'retry', code: 'AUTH_FORBIDDEN' });
    answer = (res) => json(res, 503, { code: 'AUDIT_APPEND_CONTENDED', message: 'x' }, { 'retry-after': '7' });
    expect(await t.ship(batch)).toEqual({ ok: false, action: 'retry', code: 'AUDIT_APPEND_CONTENDED', retryAfterMs: 7000 });
  });

  it('retries when the token file is unreadable or the app unreachable', async () => {
    expect(await createHttpReceiptTransport({ baseUrl: base, tokenFile: join(dir, 'absent') }).ship([modelReceipt(1)]))
      .toEqual({ ok: false, action: 'retry', code: 'IDENTITY_UNAVAILABLE' });
    writeFileSync(tokenFile, 'token');
    expect(await createHttpReceiptTransport({ baseUrl: new URL('http://127.0.0.1:9'), tokenFile }).ship([modelReceipt(1)]))
      .toEqual({ ok: false, action: 'retry', code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
