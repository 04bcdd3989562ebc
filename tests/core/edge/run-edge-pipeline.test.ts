import { describe, expect, it } from 'vitest';
import { publicResponse, GENERIC_AUTH_BODY } from '../../../core/edge/public-response';
import { requestHash } from '../../../core/edge/request-hash';
import type { EdgeLimiter } from '../../../core/ports/edge-limiter.port';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { githubFixtures, slackFixtures, standardFixture, teamsFixtures } from '../webhook/fixtures';
import {
  createEdgeFixture, edgeRequest, nowSec, parsedLogs, registerHook, SECRETS, signGithub, signSlack, signStandard, signTeams,
} from './edge-fixture';

const standardBody = JSON.stringify(standardFixture);

async function standardRequest(f: ReturnType<typeof createEdgeFixture>, hookId: string, extra: Record<string, string> = {}, id = 'msg_1') {
  return edgeRequest({ channel: 'standard', hookId, body: standardBody, headers: { ...signStandard(SECRETS.standard, id, nowSec(f.clock), standardBody), ...extra } });
}

describe('edge pipeline: accepted deliveries', () => {
  it('accepts a Standard Webhooks delivery, receipts it and enqueues it for the registered sandbox', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const outcome = await f.pipeline.handle(await standardRequest(f, hook.hookId));
    expect(outcome).toMatchObject({ kind: 'accepted', status: 202, tenantId: 'tenant-a', sandboxId: 'sandbox-a', deliveryId: 'msg_1' });
    if (outcome.kind !== 'accepted') throw new Error('unreachable');
    expect(f.queue.deliveries).toHaveLength(1);
    expect(f.queue.deliveries[0]).toMatchObject({
      tenantId: 'tenant-a', sandboxId: 'sandbox-a', agentId: 'sandbox-a', hookId: hook.hookId, channel: 'standard',
      eventType: 'contact.created', deliveryId: 'msg_1', receiptId: outcome.receiptId, payload: standardFixture,
    });
    expect(f.receipts.receipts).toHaveLength(1);
    const receipt = f.receipts.receipts[0]!;
    expect(receipt).toMatchObject({ kind: 'edge.webhook', outcome: 'accepted', status: 202, partition: 'tenant-a', receiptId: outcome.receiptId });
    expect(receipt.subject).toMatchObject({ method: 'POST', path: `/api/hooks/standard/${hook.hookId}`, channel: 'standard', hookId: hook.hookId, tenantId: 'tenant-a', deliveryId: 'msg_1' });
    expect(receipt.requestHash).toBe(requestHash(receipt.subject as never));
    expect(publicResponse(outcome)).toEqual({ status: 202, headers: expect.any(Object), body: JSON.stringify({ receiptId: outcome.receiptId }) });
  });

  it('accepts GitHub (octokit-signed), Slack and Teams deliveries', async () => {
    const f = createEdgeFixture();
    const gh = await registerHook(f, 'github');
    const push = JSON.stringify(githubFixtures.push);
    const ghOut = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: gh.hookId, body: push, headers: await signGithub(SECRETS.github, 'd-1', 'push', push) }));
    expect(ghOut).toMatchObject({ kind: 'accepted', deliveryId: 'd-1' });

    const sl = await registerHook(f, 'slack');
    const ev = JSON.stringify(slackFixtures.event_callback);
    const slOut = await f.pipeline.handle(edgeRequest({ channel: 'slack', hookId: sl.hookId, body: ev, headers: signSlack(SECRETS.slack, nowSec(f.clock), ev) }));
    expect(slOut).toMatchObject({ kind: 'accepted', deliveryId: 'Ev123ABC456' });
    // Slack's verification token is a credential: it never reaches the sandbox.
    expect(JSON.stringify(f.queue.deliveries.at(-1)!.payload)).not.toContain('XXYYZZ');
    expect(f.queue.deliveries.at(-1)!.eventType).toBe('app_mention');

    const tm = await registerHook(f, 'teams');
    const msg = JSON.stringify({ ...teamsFixtures.message, timestamp: new Date(f.clock.nowMs()).toISOString() });
    const tmOut = await f.pipeline.handle(edgeRequest({ channel: 'teams', hookId: tm.hookId, body: msg, headers: signTeams(SECRETS.teams, msg) }));
    expect(tmOut).toMatchObject({ kind: 'accepted', deliveryId: '1485983408511' });
    expect(f.queue.deliveries.map((d) => d.channel)).toEqual(['github', 'slack', 'teams']);
  });

  it('verifies the published Slack vector bytes through the pipeline (checks the test signer too)', async () => {
    const v = loadVectors<{ valid: Array<{ secret: string; timestampSec: number; bodyUtf8: string; signature: string }> }>('slack/docs-example.json').valid[0]!;
    expect(signSlack(v.secret, v.timestampSec, v.bodyUtf8)['x-slack-signature']).toBe(v.signature);
    const f = createEdgeFixture({});
    f.clock.set(v.timestampSec * 1000);
    const hook = await registerHook(f, 'slack', { secret: v.secret });
    // A form body: verified, then refused by the content-type allowlist (415) before anything is read.
    const form = await f.pipeline.handle(edgeRequest({ channel: 'slack', hookId: hook.hookId, body: vectorBody(v),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': v.signature, 'x-slack-request-timestamp': String(v.timestampSec) } }));
    expect(form).toMatchObject({ kind: 'rejected', status: 415 });
  });

  it('answers GitHub ping and Slack url_verification itself, after verification, with a receipt and no enqueue', async () => {
    const f = createEdgeFixture();
    const gh = await registerHook(f, 'github');
    const ping = JSON.stringify(githubFixtures.ping);
    const pong = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: gh.hookId, body: ping, headers: await signGithub(SECRETS.github, 'p-1', 'ping', ping) }));
    expect(pong).toMatchObject({ kind: 'answered', status: 200, body: '{"ok":true}' });

    const sl = await registerHook(f, 'slack');
    const uv = JSON.stringify(slackFixtures.url_verification);
    const challenge = await f.pipeline.handle(edgeRequest({ channel: 'slack', hookId: sl.hookId, body: uv, headers: signSlack(SECRETS.slack, nowSec(f.clock), uv) }));
    expect(challenge).toMatchObject({ kind: 'answered', status: 200 });
    expect(JSON.parse((challenge as { body: string }).body)).toEqual({ challenge: slackFixtures.url_verification.challenge });

    // Unsigned handshakes get the generic 401, not an answer.
    const forged = await f.pipeline.handle(edgeRequest({ channel: 'slack', hookId: sl.hookId, body: uv, headers: signSlack('wrong-secret', nowSec(f.clock), uv) }));
    expect(forged).toMatchObject({ kind: 'rejected', status: 401 });
    expect(f.queue.deliveries).toHaveLength(0);
    expect(f.receipts.receipts.map((r) => r.outcome)).toEqual(['answered', 'answered', 'rejected']);
  });
});

describe('edge pipeline: rejections in the issue order, each receipted', () => {
  it('refuses an unknown channel with 404 before anything else', async () => {
    const f = createEdgeFixture();
    const out = await f.pipeline.handle(edgeRequest({ channel: 'gitlab', hookId: 'hk-000', body: '{}' }));
    expect(out).toMatchObject({ kind: 'rejected', status: 404, code: 'NOT_FOUND' });
    expect(f.receipts.receipts[0]).toMatchObject({ outcome: 'rejected', code: 'NOT_FOUND', subject: { channel: null } });
  });

  it('refuses a wrong content type with 415 without pulling a single body byte', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const req = edgeRequest({ channel: 'standard', hookId: hook.hookId, body: standardBody, headers: { 'content-type': 'text/plain' } });
    expect(await f.pipeline.handle(req)).toMatchObject({ status: 415, code: 'HTTP_CONTENT_TYPE_UNSUPPORTED' });
    expect(req.pulledBytes()).toBe(0);
    expect(f.receipts.receipts[0]).toMatchObject({ code: 'HTTP_CONTENT_TYPE_UNSUPPORTED', subject: { bodyDigest: null } });
  });

  it('refuses a declared oversize body unread, and stops pulling a chunked body one chunk past the cap', async () => {
    const f = createEdgeFixture({ maxBodyBytes: 1024 });
    const hook = await registerHook(f, 'standard');
    const big = 'x'.repeat(10_000);
    const declared = edgeRequest({ channel: 'standard', hookId: hook.hookId, body: big });
    expect(await f.pipeline.handle(declared)).toMatchObject({ status: 413, code: 'HTTP_BODY_TOO_LARGE' });
    expect(declared.pulledBytes()).toBe(0);
    const chunked = edgeRequest({ channel: 'standard', hookId: hook.hookId, body: big, chunkBytes: 100, omitContentLength: true });
    expect(await f.pipeline.handle(chunked)).toMatchObject({ status: 413 });
    expect(chunked.pulledBytes()).toBe(1100);
    expect(publicResponse((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: big })))).headers.connection).toBe('close');
  });

  it('refuses credentials in the query string with 400 (after the body, before the signature)', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const req = await standardRequest(f, hook.hookId);
    const out = await f.pipeline.handle({ ...req, url: `${req.url}?access_token=abc` });
    expect(out).toMatchObject({ status: 400, code: 'HTTP_QUERY_CREDENTIAL' });
    expect((out as { message: string }).message).not.toContain('abc');
    expect(f.receipts.receipts[0]!.subject.path).toBe(`/api/hooks/standard/${hook.hookId}`);
  });

  it('answers every authentication failure with one identical 401 body and records the precise code', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const slack = await registerHook(f, 'slack');
    const ts = nowSec(f.clock);
    const cases: Array<[string, Parameters<typeof edgeRequest>[0]]> = [
      ['WEBHOOK_HOOK_UNKNOWN', { channel: 'standard', hookId: 'hk-does-not-exist', body: standardBody, headers: signStandard(SECRETS.standard, 'm1', ts, standardBody) }],
      ['WEBHOOK_HOOK_UNKNOWN', { channel: 'standard', hookId: '../etc', body: standardBody, headers: signStandard(SECRETS.standard, 'm1', ts, standardBody) }],
      ['WEBHOOK_CHANNEL_MISMATCH', { channel: 'standard', hookId: slack.hookId, body: standardBody, headers: signStandard(SECRETS.standard, 'm1', ts, standardBody) }],
      ['WEBHOOK_SIGNATURE_MISMATCH', { channel: 'standard', hookId: hook.hookId, body: standardBody, headers: signStandard('whsec_' + Buffer.alloc(32, 1).toString('base64'), 'm1', ts, standardBody) }],
      ['WEBHOOK_TIMESTAMP_SKEW', { channel: 'standard', hookId: hook.hookId, body: standardBody, headers: signStandard(SECRETS.standard, 'm1', ts - 301, standardBody) }],
      ['WEBHOOK_SIGNATURE_MISSING', { channel: 'standard', hookId: hook.hookId, body: standardBody }],
    ];
    const bodies = new Set<string>();
    for (const [code, spec] of cases) {
      const out = await f.pipeline.handle(edgeRequest(spec));
      expect(out, code).toMatchObject({ kind: 'rejected', status: 401, code });
      const pub = publicResponse(out);
      bodies.add(pub.body);
      expect(pub.status).toBe(401);
    }
    expect([...bodies]).toEqual([GENERIC_AUTH_BODY]);
    expect(f.receipts.receipts.map((r) => r.code)).toEqual(cases.map(([c]) => c));
    // Only a verified delivery id is recorded as fact.
    expect(f.receipts.receipts.every((r) => r.subject.deliveryId === null)).toBe(true);
    expect(f.queue.deliveries).toHaveLength(0);
  });

  it('refuses a replayed delivery with 409, also from a second instance sharing the store', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 202 });
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 409, code: 'WEBHOOK_REPLAY' });
    const other = createEdgeFixture({ store: f.store, secrets: f.secrets, clock: f.clock });
    expect(await other.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 409 });
    expect(f.queue.deliveries).toHaveLength(1);
    expect(other.queue.deliveries).toHaveLength(0);
  });

  it('refuses a schema violation with 400 naming field paths, and unsupported event types', async () => {
    const f = createEdgeFixture();
    const gh = await registerHook(f, 'github');
    const bad = JSON.stringify({ ...githubFixtures.push, after: 'not-a-sha', repository: { id: -1, full_name: 'x' } });
    const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: gh.hookId, body: bad, headers: await signGithub(SECRETS.github, 'd-2', 'push', bad) }));
    expect(out).toMatchObject({ status: 400, code: 'INPUT_INVALID' });
    const message = (out as { message: string }).message;
    for (const p of ['after', 'repository.id', 'repository.full_name']) expect(message).toContain(p);
    const star = JSON.stringify({ action: 'created' });
    const unsupported = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: gh.hookId, body: star, headers: await signGithub(SECRETS.github, 'd-3', 'star', star) }));
    expect(unsupported).toMatchObject({ status: 400, code: 'WEBHOOK_EVENT_UNSUPPORTED' });
  });

  it('binds the tenant from the registration: a disagreeing x-kars-tenant is 403, an agreeing one passes', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId, { 'x-kars-tenant': 'tenant-b' }, 'm-a'))).toMatchObject({ status: 403, code: 'WEBHOOK_TENANT_MISMATCH' });
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId, { 'x-kars-tenant': 'tenant-a' }, 'm-b'))).toMatchObject({ status: 202, tenantId: 'tenant-a' });
  });

  it('refuses an event type outside the registration allowlist with 403', async () => {
    const f = createEdgeFixture();
    const gh = await registerHook(f, 'github', { allowedEventTypes: ['push'] });
    const issues = JSON.stringify(githubFixtures.issues);
    const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: gh.hookId, body: issues, headers: await signGithub(SECRETS.github, 'd-4', 'issues', issues) }));
    expect(out).toMatchObject({ status: 403, code: 'WEBHOOK_EVENT_NOT_ALLOWED' });
  });

  it('maps limiter outcomes: rate-limited → 429 + Retry-After, quota spent → 403, and gives the replay claim back', async () => {
    let next: Awaited<ReturnType<EdgeLimiter['admit']>> = { outcome: 'rate-limited', scope: 'agent', retryAfterMs: 1500 };
    const calls: Array<[string, string]> = [];
    const limiter: EdgeLimiter = { admit: async (t, a) => { calls.push([t, a]); return next; } };
    const f = createEdgeFixture({ limiter });
    const hook = await registerHook(f, 'standard', { agentId: 'agent-7' });
    const limited = await f.pipeline.handle(await standardRequest(f, hook.hookId));
    expect(limited).toMatchObject({ status: 429, code: 'LIMIT_RATE_EXCEEDED', retryAfterMs: 1500 });
    expect(publicResponse(limited).headers['retry-after']).toBe('2');
    expect(calls).toEqual([['tenant-a', 'agent-7']]);
    next = { outcome: 'quota-spent', scope: 'requests' };
    // Same delivery again: not a replay, because the 429 gave the claim back.
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 403, code: 'LIMIT_QUOTA_EXCEEDED' });
    next = { outcome: 'allowed' };
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 202 });
    expect(f.receipts.receipts.map((r) => [r.outcome, r.status])).toEqual([['rejected', 429], ['rejected', 403], ['accepted', 202]]);
  });
});

describe('edge pipeline: dependency failures', () => {
  it('answers 503 with Retry-After when the queue is down, records both receipts and frees the delivery id', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    f.queue.failWith('BUS_UNAVAILABLE');
    const out = await f.pipeline.handle(await standardRequest(f, hook.hookId));
    expect(out).toMatchObject({ kind: 'rejected', status: 503, code: 'BUS_UNAVAILABLE' });
    const pub = publicResponse(out);
    expect(JSON.parse(pub.body)).toEqual({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.any(String) });
    expect(pub.headers['retry-after']).toBe('5');
    expect(f.receipts.receipts.map((r) => r.outcome)).toEqual(['accepted', 'rejected']);
    expect(f.receipts.receipts[0]!.requestHash).toBe(f.receipts.receipts[1]!.requestHash);
    f.queue.failWith(undefined);
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 202 });
  });

  it('does not accept without a receipt (503), and a rejection stands even when its receipt fails', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    f.receipts.failWith('STORE_UNAVAILABLE');
    expect(await f.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    expect(f.queue.deliveries).toHaveLength(0);
    const unknown = await f.pipeline.handle(await standardRequest(f, 'hk-unknown-1'));
    expect(unknown).toMatchObject({ status: 401 });
    expect(unknown).not.toHaveProperty('receiptId');
    expect(parsedLogs(f.logs).some((l) => l.event === 'edge.receipt_failed')).toBe(true);
  });

  it('turns a missing vault secret into 503 (sender retries once an operator fixes it)', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const broken = createEdgeFixture({ store: f.store, clock: f.clock });
    expect(await broken.pipeline.handle(await standardRequest(f, hook.hookId))).toMatchObject({ status: 503, code: 'SECRET_NOT_FOUND' });
  });
});

describe('edge pipeline: log line', () => {
  it('logs one line per request with the path without query, and for refusals the headers, values redacted', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const req = await standardRequest(f, hook.hookId, { 'x-api-key': 'hdr-secret-123' });
    await f.pipeline.handle({ ...req, url: `${req.url}?q=1&session=sess-secret-456` });
    const lines = parsedLogs(f.logs).filter((l) => l.event === 'edge.webhook');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ path: `/api/hooks/standard/${hook.hookId}`, status: 400, code: 'HTTP_QUERY_CREDENTIAL', hookId: hook.hookId });
    expect(lines[0]).not.toHaveProperty('url');
    const headers = JSON.parse(lines[0]!.headers as string) as Record<string, string>;
    expect(headers['x-api-key']).toBe('[REDACTED]');
    expect(headers['webhook-signature']).toBe('[REDACTED]');
    expect(headers['content-type']).toBe('application/json');
    expect(f.logs.join('\n')).not.toMatch(/hdr-secret-123|sess-secret-456/);
    // An accepted request is logged with its ids and no headers.
    await f.pipeline.handle(await standardRequest(f, hook.hookId, {}, 'msg_ok_log'));
    const accepted = parsedLogs(f.logs).filter((l) => l.event === 'edge.webhook').at(-1)!;
    expect(accepted).toMatchObject({ status: 202, deliveryId: 'msg_ok_log', tenantId: 'tenant-a', receiptId: expect.any(String) });
    expect(accepted).not.toHaveProperty('headers');
  });
});
