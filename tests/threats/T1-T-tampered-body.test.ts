// T1-T "Tampered request body" — mitigation: schema validation + size cap + content-type allowlist, on top of the MAC
// Defends: signature, content-type, size-cap, schema, proto-poisoning
// over the exact raw bytes. Each attack runs with its mitigation on (refused) and off through `_disable` (the hostile
// body then reaches the sandbox queue).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../../core/secrets/redacted';
import { githubFixtures, standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signGithub, signStandard } from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';

describe('T1-T tampering in transit: the MAC covers the exact bytes', () => {
  it('a body changed after signing (re-serialised, one field edited) is 401; OFF (signature) the edited body is delivered', async () => {
    for (const [disable, status] of [[[], 401], [['signature'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'github');
      const original = JSON.stringify(githubFixtures.push);
      const headers = await signGithub(SECRETS.github, 'd-tamper', 'push', original);
      const tampered = JSON.stringify({ ...githubFixtures.push, ref: 'refs/heads/evil' });
      const reformatted = JSON.stringify(githubFixtures.push, null, 2);
      expect((await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: tampered, headers }))).status).toBe(status);
      expect((await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: reformatted, headers: { ...headers, 'x-github-delivery': 'd-2' } }))).status).toBe(status);
      if (status === 202) expect(f.queue.deliveries.map((d) => (d.payload as { ref: string }).ref)).toContain('refs/heads/evil');
      else expect(f.queue.deliveries).toHaveLength(0);
    }
  });
});

describe('T1-T hostile but validly signed bodies: the zod schema per channel and event', () => {
  const hostile = [
    ['wrong types and bounds', { ...githubFixtures.push, before: 42, commits: 'x', repository: { id: -1, full_name: '../../etc/passwd' } }, ['before', 'commits', 'repository.id', 'repository.full_name']],
    ['prototype poisoning', JSON.parse(`{"ref":"refs/heads/main","__proto__":{"isAdmin":true}}`) as object, ['(root)']],
    ['missing required fields', { ref: 'refs/heads/main' }, ['before', 'after', 'repository', 'pusher', 'sender', 'commits']],
  ] as const;

  it.each(hostile)('%s: ON 400 naming the failing paths', async (_name, payload, paths) => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'github');
    const raw = _name === 'prototype poisoning' ? `{"ref":"refs/heads/main","__proto__":{"isAdmin":true}}` : JSON.stringify(payload);
    const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: raw, headers: await signGithub(SECRETS.github, 'd-h', 'push', raw) }));
    expect(out).toMatchObject({ status: 400, code: 'INPUT_INVALID' });
    for (const p of paths) expect((out as { message: string }).message).toContain(p);
    expect(f.queue.deliveries).toHaveLength(0);
  });

  it('OFF (schema): the same hostile bodies are delivered to the sandbox as sent, __proto__ key included', async () => {
    const f = createEdgeFixture({ _disable: ['schema'] });
    const hook = await registerHook(f, 'github');
    for (const [i, [name, payload]] of hostile.entries()) {
      const raw = name === 'prototype poisoning' ? `{"ref":"refs/heads/main","__proto__":{"isAdmin":true}}` : JSON.stringify(payload);
      const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: raw, headers: await signGithub(SECRETS.github, `d-off-${i}`, 'push', raw) }));
      expect(out.status, name).toBe(202);
    }
    expect(f.queue.deliveries).toHaveLength(3);
    expect((f.queue.deliveries[0]!.payload as { repository: { full_name: string } }).repository.full_name).toBe('../../etc/passwd');
  });
});

describe('T1-T content-type allowlist', () => {
  it('a signed text/plain body (a browser can send it cross-origin without preflight) is 415; OFF it is delivered', async () => {
    for (const [disable, status] of [[[], 415], [['content-type'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'standard');
      const body = JSON.stringify(standardFixture);
      const headers = { ...signStandard(SECRETS.standard, 'msg_ct', nowSec(f.clock), body), 'content-type': 'text/plain' };
      const req = edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers });
      expect((await f.pipeline.handle(req)).status).toBe(status);
      // Refused before a single body byte was pulled.
      if (status === 415) expect(req.pulledBytes()).toBe(0);
      expect(f.queue.deliveries).toHaveLength(status === 202 ? 1 : 0);
    }
  });

  it('refuses charsets other than UTF-8 and extra parameters', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    for (const ct of ['application/json; charset=utf-16', 'application/json; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      expect((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: '{}', headers: { 'content-type': ct } }))).status, ct).toBe(415);
    }
  });
});

describe('T1-T size cap over HTTP (real host, Cosmos, Service Bus)', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  beforeAll(async () => {
    [on, off] = await Promise.all([startEdgeStack(), startEdgeStack({ pipelineOptions: { _disable: ['size-cap'] } })]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function oversized(stack: EdgeStack, sandboxId: string) {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    // 300 KiB, above the 256 KiB default cap, validly signed and schema-valid.
    const body = JSON.stringify({ ...standardFixture, data: { id: '1', blob: 'A'.repeat(300 * 1024) } });
    const r = await postHook(stack, 'standard', hook.hookId, body, signStandard(SECRETS.standard, 'msg_big', Math.floor(Date.now() / 1000), body));
    return { status: r.status, json: (await r.json()) as Record<string, unknown>, delivered: await stack.drain(sandboxId) };
  }

  it('ON: 413 WEBHOOK_BODY_TOO_LARGE, receipted, nothing delivered', async () => {
    const r = await oversized(on, 'sandbox-big-on');
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ code: 'WEBHOOK_BODY_TOO_LARGE' });
    expect(r.delivered).toEqual([]);
    expect((await on.readReceipts()).map((x) => x.code)).toEqual(['WEBHOOK_BODY_TOO_LARGE']);
  });

  it('OFF: the oversized body is buffered, accepted and delivered to the sandbox', async () => {
    const r = await oversized(off, 'sandbox-big-off');
    expect(r.status).toBe(202);
    expect(r.delivered).toHaveLength(1);
  });
});
