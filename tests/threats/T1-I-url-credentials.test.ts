// T1-I "API key in URL leaks via logs" — mitigation: tokens accepted only via headers (a credential in the query string
// Defends: query-credentials, uri-redaction, header-redaction
// is refused with 400), the URI logged without its query, header values outside an allowlist redacted. Canaries are
// planted in query strings and headers; with each mitigation switched off (`_disable`) the canary shows up where the
// attack expects it (accepted request, log line), with it on it appears nowhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../../core/secrets/redacted';
import { standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signStandard, type EdgeFixture } from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';
import { Canaries } from './canary';

const body = JSON.stringify(standardFixture);

async function send(f: EdgeFixture, hookId: string, id: string, query: string, extraHeaders: Record<string, string> = {}) {
  const req = edgeRequest({ channel: 'standard', hookId, body, query, headers: { ...signStandard(SECRETS.standard, id, nowSec(f.clock), body), ...extraHeaders } });
  return f.pipeline.handle(req);
}

describe('T1-I credentials in the URL', () => {
  it('ON: ?code=, ?access_token=, ?sig= and JWT-shaped values are refused with 400; nothing logged or answered holds them', async () => {
    const canaries = new Canaries();
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const queries = [
      `?code=${canaries.plant('function key')}`,
      `?access_token=${canaries.plant('token')}`,
      `?x=1&sig=${canaries.plant('sas sig')}`,
      `?Api-Key=${canaries.plant('api key')}`,
      `?next=eyJhbGciOiJIUzI1NiJ9.${canaries.plant('jwt')}.c2ln`,
      `?%74oken=${canaries.plant('percent-encoded name')}`,
    ];
    const responses: Array<[string, string]> = [];
    for (const [i, q] of queries.entries()) {
      const out = await send(f, hook.hookId, `msg_q${i}`, q);
      expect(out, q).toMatchObject({ status: 400, code: 'HTTP_QUERY_CREDENTIAL' });
      responses.push([`response ${q}`, JSON.stringify(out)]);
    }
    expect(f.queue.deliveries).toHaveLength(0);
    const receipts = f.receipts.receipts.map((r) => ['receipt', JSON.stringify(r)] as [string, string]);
    expect(canaries.scan([...f.logs.map((l) => ['log', l] as [string, string]), ...responses, ...receipts])).toEqual([]);
  });

  it('OFF (query-credentials): the token in the URL is accepted; OFF also uri-redaction: it lands in the log line', async () => {
    const canaries = new Canaries();
    const f = createEdgeFixture({ _disable: ['query-credentials'] });
    const hook = await registerHook(f, 'standard');
    const token = canaries.plant('query token');
    expect(await send(f, hook.hookId, 'msg_off1', `?token=${token}`)).toMatchObject({ status: 202 });
    // The URI is still logged without its query: no leak yet.
    expect(canaries.scan(f.logs.map((l) => ['log', l] as const))).toEqual([]);

    const leaky = createEdgeFixture({ _disable: ['query-credentials', 'uri-redaction'] });
    const leakyHook = await registerHook(leaky, 'standard');
    const leaked = canaries.plant('query token, unredacted');
    expect(await send(leaky, leakyHook.hookId, 'msg_off2', `?token=${leaked}`)).toMatchObject({ status: 202 });
    expect(canaries.scan(leaky.logs.map((l) => ['log', l] as const)).map((h) => h.label)).toContain('query token, unredacted');
  });

  it('redacts header values outside the allowlist; OFF (header-redaction) the Authorization canary is logged', async () => {
    for (const disable of [[], ['header-redaction']] as const) {
      const canaries = new Canaries();
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'standard');
      const headers = { authorization: `Bearer ${canaries.plant('bearer')}`, 'x-api-key': canaries.plant('x-api-key'), cookie: `s=${canaries.plant('cookie')}` };
      // A refused request (tenant mismatch) is logged with its headers.
      await send(f, hook.hookId, 'msg_h', '', { ...headers, 'x-kars-tenant': 'someone-else' });
      const hits = canaries.scan(f.logs.map((l) => ['log', l] as const));
      if (disable.length === 0) {
        expect(hits).toEqual([]);
        const line = f.logs.map((l) => JSON.parse(l) as { event: string; headers?: string }).find((l) => l.event === 'edge.webhook')!;
        expect(JSON.parse(line.headers!)).toMatchObject({ authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', 'webhook-signature': '[REDACTED]', 'webhook-id': 'msg_h' });
      } else {
        expect(new Set(hits.map((h) => h.label))).toEqual(new Set(['bearer', 'x-api-key', 'cookie']));
      }
    }
  });
});

describe('T1-I over HTTP (real local host, Cosmos, Service Bus)', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  const canaries = new Canaries();
  beforeAll(async () => {
    [on, off] = await Promise.all([
      startEdgeStack(),
      startEdgeStack({ pipelineOptions: { _disable: ['query-credentials', 'uri-redaction', 'header-redaction'] } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function leak(stack: EdgeStack, sandboxId: string) {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const code = canaries.plant(`?code on ${sandboxId}`);
    const bearer = canaries.plant(`authorization on ${sandboxId}`);
    const headers = { ...signStandard(SECRETS.standard, `msg_${sandboxId}`, Math.floor(Date.now() / 1000), body), authorization: `Bearer ${bearer}` };
    const r = await postHook(stack, 'standard', hook.hookId, body, headers, `?code=${code}`);
    // A second, refused request (the id no longer matches its signature): refusals are logged with their headers.
    const refused = await postHook(stack, 'standard', hook.hookId, body, { ...headers, 'webhook-id': `msg2_${sandboxId}`, 'x-kars-tenant': 'other' });
    expect(refused.status).toBe(401);
    return { status: r.status, text: `${await r.text()}\n${await refused.text()}` };
  }

  it('ON: 400, and neither the host log, the pipeline log, the response nor the receipts hold the canaries', async () => {
    const r = await leak(on, 'sandbox-i-on');
    expect(r.status).toBe(400);
    const receipts = (await on.readReceipts()).map((x) => ['receipt', JSON.stringify(x)] as [string, string]);
    expect(canaries.scan([...on.logs.map((l) => ['log', l] as [string, string]), ['response', r.text], ...receipts])).toEqual([]);
    expect(on.logs.some((l) => l.includes('"event":"http.request"'))).toBe(true);
  });

  it('OFF: the request with the URL token is accepted and both canaries are in the logs', async () => {
    const r = await leak(off, 'sandbox-i-off');
    expect(r.status).toBe(202);
    const labels = canaries.scan(off.logs.map((l) => ['log', l] as const)).map((h) => h.label);
    expect(labels).toEqual(expect.arrayContaining(['?code on sandbox-i-off', 'authorization on sandbox-i-off']));
  });
});
