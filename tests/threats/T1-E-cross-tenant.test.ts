// T1-E "Cross-tenant request" — mitigation: the tenant is bound at the gateway from the hook registration (an
// Defends: tenant-binding, event-allowlist, per-sandbox-session
// `x-kars-tenant` header that disagrees is 403), a hook delivers only its registered event types (403), and each
// delivery goes to its own sandbox's Service Bus session. With the binding switched off (`_disable`) the edge takes
// the tenant from the header, as a naive gateway would, and the request runs as (and is charged to) another tenant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeLimiter } from '../../core/ports/edge-limiter.port';
import { redact } from '../../core/secrets/redacted';
import { githubFixtures, standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signGithub, signStandard } from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';

const body = JSON.stringify(standardFixture);

function recordingLimiter(): EdgeLimiter & { tenants: string[] } {
  const tenants: string[] = [];
  return { tenants, admit: async (tenantId) => { tenants.push(tenantId); return { outcome: 'allowed' }; } };
}

describe('T1-E tenant bound from the registration', () => {
  it('ON: tenant A\'s hook with x-kars-tenant: tenant-b is 403 and charged to nobody; OFF: it runs as tenant-b', async () => {
    for (const disable of [[], ['tenant-binding']] as const) {
      const limiter = recordingLimiter();
      const f = createEdgeFixture({ limiter, _disable: [...disable] });
      const hook = await registerHook(f, 'standard', { tenantId: 'tenant-a' });
      const headers = { ...signStandard(SECRETS.standard, 'msg_x', nowSec(f.clock), body), 'x-kars-tenant': 'tenant-b' };
      const out = await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }));
      if (disable.length === 0) {
        expect(out).toMatchObject({ status: 403, code: 'WEBHOOK_TENANT_MISMATCH' });
        expect(limiter.tenants).toEqual([]);
        expect(f.queue.deliveries).toHaveLength(0);
        expect(f.receipts.receipts[0]).toMatchObject({ partition: 'tenant-a', subject: { tenantId: 'tenant-a' } });
      } else {
        expect(out).toMatchObject({ status: 202, tenantId: 'tenant-b' });
        expect(limiter.tenants).toEqual(['tenant-b']);
        expect(f.queue.deliveries[0]).toMatchObject({ tenantId: 'tenant-b' });
      }
    }
  });

  // (Surrounding whitespace is not part of a field value, RFC 9110 §5.5; fetch Headers strip it before the edge sees it.)
  it('refuses a duplicated, differently cased or empty header too (no lenient parsing of the tenant)', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard', { tenantId: 'tenant-a' });
    for (const [i, value] of ['tenant-a, tenant-b', 'tenant-a,', 'TENANT-A', ''].entries()) {
      const headers = { ...signStandard(SECRETS.standard, `msg_p${i}`, nowSec(f.clock), body), 'x-kars-tenant': value };
      expect((await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).status, JSON.stringify(value)).toBe(403);
    }
  });

  it('ON: an event type outside the registration is 403; OFF (event-allowlist) it reaches the sandbox', async () => {
    for (const [disable, status] of [[[], 403], [['event-allowlist'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'github', { allowedEventTypes: ['push'] });
      const issues = JSON.stringify(githubFixtures.issues);
      const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: issues, headers: await signGithub(SECRETS.github, 'd-e', 'issues', issues) }));
      expect(out.status).toBe(status);
      expect(f.queue.deliveries).toHaveLength(status === 202 ? 1 : 0);
    }
  });

  it('a hook id of tenant B used with tenant A\'s secret is an authentication failure, never a delivery to B', async () => {
    const f = createEdgeFixture();
    await registerHook(f, 'github', { tenantId: 'tenant-a', sandboxId: 'sandbox-a' });
    const hookB = await registerHook(f, 'github', { tenantId: 'tenant-b', sandboxId: 'sandbox-b', secret: 'tenant-b-own-secret' });
    const push = JSON.stringify(githubFixtures.push);
    const out = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hookB.hookId, body: push, headers: await signGithub(SECRETS.github, 'd-ab', 'push', push) }));
    expect(out).toMatchObject({ status: 401, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
    expect(f.queue.session('sandbox-b')).toHaveLength(0);
  });
});

describe('T1-E over HTTP: sessions isolate sandboxes, the management API is not anonymous', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  beforeAll(async () => {
    [on, off] = await Promise.all([startEdgeStack(), startEdgeStack({ pipelineOptions: { _disable: ['tenant-binding'] } })]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function crossTenant(stack: EdgeStack) {
    const a = await stack.registry.create({ tenantId: 'tenant-a', sandboxId: 'sandbox-ta', channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    await stack.registry.create({ tenantId: 'tenant-b', sandboxId: 'sandbox-tb', channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const headers = { ...signStandard(SECRETS.standard, 'msg_cross', Math.floor(Date.now() / 1000), body), 'x-kars-tenant': 'tenant-b' };
    const r = await postHook(stack, 'standard', a.hookId, body, headers);
    return { status: r.status, toA: await stack.drain('sandbox-ta'), toB: await stack.drain('sandbox-tb', 300) };
  }

  it('ON: 403; nothing reaches either sandbox session', async () => {
    const r = await crossTenant(on);
    expect(r.status).toBe(403);
    expect(r.toA).toEqual([]);
    expect(r.toB).toEqual([]);
    // A tenant's receipts are spread over the chains (no order across them): look the refusal up by its code.
    expect((await on.readReceipts()).find((x) => x.code === 'WEBHOOK_TENANT_MISMATCH')).toMatchObject({ subject: { tenantId: 'tenant-a' } });
  });

  it('OFF: accepted and delivered as tenant-b (still only to the registered sandbox session, never to B\'s)', async () => {
    const r = await crossTenant(off);
    expect(r.status).toBe(202);
    expect(r.toA.map((d) => d.tenantId)).toEqual(['tenant-b']);
    expect(r.toB).toEqual([]);
  });

  it('creating or rotating a hook (choosing tenant and sandbox) needs the master key', async () => {
    const create = await fetch(`${on.url}/api/manage/hooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kars-tenant': 'tenant-a' },
      body: JSON.stringify({ tenantId: 'tenant-a', sandboxId: 'sandbox-evil', channel: 'github', allowedEventTypes: ['push'], secret: 'attacker-secret' }) });
    expect(create.status).toBe(401);
    const ok = await fetch(`${on.url}/api/manage/hooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-functions-key': on.masterKey },
      body: JSON.stringify({ tenantId: 'tenant-a', sandboxId: 'sandbox-ok', channel: 'github', allowedEventTypes: ['push'], secret: 'operator-secret' }) });
    expect(ok.status).toBe(201);
  });
});
