// `kars webhook send|create|rotate` against the real local host (Cosmos, Service Bus, local secrets): the signatures
// the CLI produces are checked by the providers' own libraries and accepted by the edge.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main';
import { sampleWebhookBody, signWebhookRequest } from '../../../cli/commands/webhook-signing';
import { redact } from '../../../core/secrets/redacted';
import { verifyWebhook } from '../../../core/webhook/verify-webhook';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { SECRETS } from '../../core/edge/edge-fixture';
import { startEdgeStack, type EdgeStack } from '../../functions/hooks/edge-stack';

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env, cwd: process.cwd() }, out, err };
}

describe('webhook signing matches the providers', () => {
  it('standard: verified by the standardwebhooks library; github: verified by @octokit/webhooks-methods', async () => {
    const body = new TextEncoder().encode('{"type":"a.b","timestamp":"2026-01-01T00:00:00Z","data":{}}');
    const std = signWebhookRequest('standard', redact(SECRETS.standard), body, { id: 'msg_cli', timestampSec: Math.floor(Date.now() / 1000) });
    expect(() => new Webhook(SECRETS.standard).verify(Buffer.from(body), std)).not.toThrow();
    const { verify } = await import('@octokit/webhooks-methods');
    const gh = signWebhookRequest('github', redact(SECRETS.github), body, { id: 'd', timestampSec: 0, eventType: 'push' });
    expect(await verify(SECRETS.github, new TextDecoder().decode(body), gh['x-hub-signature-256']!)).toBe(true);
  });

  it('reproduces the published GitHub, Slack and Teams vectors', () => {
    const gh = loadVectors<{ valid: Array<{ secret: string; bodyUtf8: string; signature: string }> }>('github/docs-and-octokit.json').valid[0]!;
    expect(signWebhookRequest('github', redact(gh.secret), vectorBody(gh), { id: 'x', timestampSec: 0 })['x-hub-signature-256']).toBe(gh.signature);
    const sl = loadVectors<{ valid: Array<{ secret: string; timestampSec: number; bodyUtf8: string; signature: string }> }>('slack/docs-example.json').valid[0]!;
    expect(signWebhookRequest('slack', redact(sl.secret), vectorBody(sl), { id: 'x', timestampSec: sl.timestampSec })['x-slack-signature']).toBe(sl.signature);
    const tm = loadVectors<{ valid: Array<{ securityToken: string; bodyBase64: string; authorization: string }> }>('teams/openssl-cross-generated.json').valid[0]!;
    expect(signWebhookRequest('teams', redact(tm.securityToken), vectorBody(tm), { id: 'x', timestampSec: 0 }).authorization).toBe(tm.authorization);
    const sw = loadVectors<{ valid: Array<{ secret: string; msgId: string; timestampSec: number; bodyUtf8: string; signature: string }> }>('standard-webhooks/javascript-library.json').valid[0]!;
    expect(signWebhookRequest('standard', redact(sw.secret), vectorBody(sw), { id: sw.msgId, timestampSec: sw.timestampSec })['webhook-signature']).toBe(sw.signature);
  });

  it('sample bodies verify and pass the edge schemas', () => {
    for (const channel of ['standard', 'github', 'slack', 'teams'] as const) {
      const now = Date.now();
      const sample = sampleWebhookBody(channel, now, 'id1');
      const bytes = new TextEncoder().encode(sample.body);
      const headers = signWebhookRequest(channel, redact(SECRETS[channel]), bytes, { id: 'id1', timestampSec: Math.floor(now / 1000), ...(sample.eventType ? { eventType: sample.eventType } : {}) });
      const h = new Headers(headers);
      expect(verifyWebhook(channel, { body: bytes, header: (n) => h.get(n) ?? undefined, secrets: [redact(SECRETS[channel])], nowMs: now }).ok, channel).toBe(true);
    }
  });
});

describe('kars webhook create / send / rotate against the local host', () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    stack = await startEdgeStack();
  });
  afterAll(() => stack?.close());

  it('creates a hook, sends each sample, rotates, and never prints a secret', async () => {
    const env = { KARS_LOCAL_MASTER_KEY: stack.masterKey, HOOK_SECRET: SECRETS.standard, NEW_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64') };
    const created = io(env);
    expect(await runCli(['webhook', 'create', '--url', stack.url, '--channel', 'standard', '--tenant', 'tenant-cli', '--sandbox', 'sandbox-cli',
      '--events', 'kars.demo', '--secret-env', 'HOOK_SECRET', '--hook', 'hk-cli-demo'], created.io)).toBe(0);
    expect(created.out[0]).toMatch(/^HTTP 201 /);

    const sent = io(env);
    expect(await runCli(['webhook', 'send', '--url', stack.url, '--channel', 'standard', '--hook', 'hk-cli-demo', '--secret-env', 'HOOK_SECRET'], sent.io)).toBe(0);
    expect(sent.out[0]).toMatch(/^HTTP 202 \{"receiptId":"[^"]+"\}$/);
    expect(await stack.drain('sandbox-cli')).toHaveLength(1);

    const rotated = io(env);
    expect(await runCli(['webhook', 'rotate', '--url', stack.url, '--hook', 'hk-cli-demo', '--secret-env', 'NEW_SECRET', '--grace-sec', '0'], rotated.io)).toBe(0);
    const stale = io(env);
    // A new registry cache entry is needed before the old secret stops working; ask with a fresh stack restart.
    await stack.restartApp();
    expect(await runCli(['webhook', 'send', '--url', stack.url, '--channel', 'standard', '--hook', 'hk-cli-demo', '--secret-env', 'HOOK_SECRET'], stale.io)).toBe(1);
    expect(stale.out[0]).toMatch(/^HTTP 401 /);
    const fresh = io(env);
    expect(await runCli(['webhook', 'send', '--url', stack.url, '--channel', 'standard', '--hook', 'hk-cli-demo', '--secret-env', 'NEW_SECRET'], fresh.io)).toBe(0);

    const all = [...created.out, ...created.err, ...sent.out, ...rotated.out, ...stale.out, ...fresh.out, ...stack.logs].join('\n');
    expect(all).not.toContain(SECRETS.standard.slice(6));
    expect(all).not.toContain(env.NEW_SECRET.slice(6));
    expect(all).not.toContain(stack.masterKey);
  });

  it('sends GitHub ping, Slack url_verification and a Teams message samples', async () => {
    for (const channel of ['github', 'slack', 'teams'] as const) {
      await stack.registry.create({ hookId: `hk-cli-${channel}`, tenantId: 't', sandboxId: `sb-cli-${channel}`, channel, allowedEventTypes: ['message'], secret: redact(SECRETS[channel]) });
      const r = io({ S: SECRETS[channel] });
      const code = await runCli(['webhook', 'send', '--url', stack.url, '--channel', channel, '--hook', `hk-cli-${channel}`, '--secret-env', 'S'], r.io);
      expect(r.out[0], channel).toMatch(channel === 'teams' ? /^HTTP 202 / : /^HTTP 200 /);
      expect(code).toBe(0);
    }
  });

  it('refuses secrets as flags, URLs with query strings and unknown channels (exit 2)', async () => {
    const r = io({});
    expect(await runCli(['webhook', 'send', '--channel', 'github', '--hook', 'hk-x1', '--secret-env', 'MISSING'], r.io)).toBe(2);
    expect(await runCli(['webhook', 'send', '--channel', 'github', '--hook', 'hk-x1', '--secret', 'abc'], r.io)).toBe(2);
    expect(await runCli(['webhook', 'send', '--channel', 'github', '--hook', 'hk-x1', '--secret-env', 'S', '--url', 'http://h/?code=x'], io({ S: 'x' }).io)).toBe(2);
    expect(await runCli(['webhook', 'send', '--channel', 'smtp', '--hook', 'hk-x1', '--secret-env', 'S'], io({ S: 'x' }).io)).toBe(2);
    expect(r.err.join('\n')).not.toContain('abc');
  });
});
