// T1-S "Attacker forges channel webhook" — mitigation: per-channel HMAC verification over the raw bytes, signed
// Defends: signature, timestamp
// timestamps within ±300 s, one generic 401. Each attack runs with the mitigation on (refused) and switched off through
// the test-only `_disable` option (the forged or stale request then reaches the sandbox queue).
// Signatures: `standardwebhooks` and `@octokit/webhooks-methods` (the providers' own libraries); Slack v0 and Teams
// HMAC by their documented algorithm, pinned by the published Slack vector and the OpenSSL-generated Teams vector.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicResponse, GENERIC_AUTH_BODY } from '../../core/edge/public-response';
import { redact } from '../../core/secrets/redacted';
import type { WebhookChannel } from '../../core/webhook/types';
import { loadVectors, vectorBody } from '../vectors/load-vectors';
import { githubFixtures, slackFixtures, standardFixture, teamsFixtures } from '../core/webhook/fixtures';
import {
  createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signGithub, signSlack, signStandard, signTeams, type EdgeFixture,
} from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';

const ATTACKER_SECRETS: Record<WebhookChannel, string> = {
  standard: 'whsec_' + Buffer.from('attacker-chosen-key-of-32-bytes!').toString('base64'),
  github: 'attacker-guess',
  slack: 'attacker-guess',
  teams: Buffer.from('attacker-chosen-key-of-32-bytes!').toString('base64'),
};

/** A well-formed request for `channel`, signed with `secret` at `timestampSec`. */
async function signedRequest(f: EdgeFixture, channel: WebhookChannel, hookId: string, secret: string, timestampSec: number, id: string) {
  switch (channel) {
    case 'standard': {
      const body = JSON.stringify(standardFixture);
      return edgeRequest({ channel, hookId, body, headers: signStandard(secret, id, timestampSec, body) });
    }
    case 'github': {
      // GitHub signs no delivery id: the replay key is the body digest, so each delivery needs its own body.
      const body = JSON.stringify({ ...githubFixtures.push, ref: `refs/heads/${id}`, after: 'c'.repeat(40), head_commit: null, commits: [] });
      return edgeRequest({ channel, hookId, body, headers: await signGithub(secret, id, 'push', body) });
    }
    case 'slack': {
      const body = JSON.stringify({ ...slackFixtures.event_callback, event_id: id });
      return edgeRequest({ channel, hookId, body, headers: signSlack(secret, timestampSec, body) });
    }
    case 'teams': {
      const body = JSON.stringify({ ...teamsFixtures.message, id, timestamp: new Date(timestampSec * 1000).toISOString() });
      return edgeRequest({ channel, hookId, body, headers: signTeams(secret, body) });
    }
  }
}

const CHANNELS: WebhookChannel[] = ['standard', 'github', 'slack', 'teams'];

describe('T1-S forged webhook: per-channel HMAC over raw bytes', () => {
  it.each(CHANNELS)('%s: the genuine sender passes, a forger without the secret gets the generic 401', async (channel) => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, channel);
    expect(await f.pipeline.handle(await signedRequest(f, channel, hook.hookId, SECRETS[channel], nowSec(f.clock), 'genuine-1'))).toMatchObject({ status: 202 });
    const forged = await f.pipeline.handle(await signedRequest(f, channel, hook.hookId, ATTACKER_SECRETS[channel], nowSec(f.clock), 'forged-1'));
    expect(forged).toMatchObject({ kind: 'rejected', status: 401, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
    expect(publicResponse(forged).body).toBe(GENERIC_AUTH_BODY);
    expect(f.queue.deliveries.map((d) => d.deliveryId)).toEqual(['genuine-1']);
  });

  it.each(CHANNELS)('%s, mitigation OFF (_disable signature): the forged delivery reaches the sandbox queue', async (channel) => {
    const f = createEdgeFixture({ _disable: ['signature'] });
    const hook = await registerHook(f, channel);
    const forged = await f.pipeline.handle(await signedRequest(f, channel, hook.hookId, ATTACKER_SECRETS[channel], nowSec(f.clock), 'forged-2'));
    expect(forged).toMatchObject({ kind: 'accepted', status: 202, sandboxId: 'sandbox-a' });
    expect(f.queue.session('sandbox-a')).toHaveLength(1);
  });

  it('published vectors verify through the pipeline as raw bytes (Standard Webhooks, GitHub docs, Teams, non-UTF-8 body)', async () => {
    const std = loadVectors<{ valid: Array<{ secret: string; msgId: string; timestampSec: number; bodyUtf8: string; signature: string }> }>('standard-webhooks/javascript-library.json').valid[0]!;
    const f = createEdgeFixture();
    f.clock.set(std.timestampSec * 1000);
    const hook = await registerHook(f, 'standard', { secret: std.secret });
    const headers = { 'webhook-id': std.msgId, 'webhook-timestamp': String(std.timestampSec), 'webhook-signature': std.signature };
    // Authentic per the vector; the vector's body is not a Standard Webhooks envelope, so the schema answers 400.
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: vectorBody(std), headers }))).toMatchObject({ status: 400, code: 'INPUT_INVALID' });
    const raw = loadVectors<{ bodyBase64: string; standard: { secret: string; msgId: string; timestampSec: number; signature: string } }>('cross-generated/raw-bytes-openssl.json');
    const rawHeaders = { 'webhook-id': raw.standard.msgId, 'webhook-timestamp': String(raw.standard.timestampSec), 'webhook-signature': raw.standard.signature };
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: vectorBody(raw), headers: rawHeaders }))).toMatchObject({ status: 400 });
    // One flipped bit in the raw bytes: now it is a 401.
    const flipped = vectorBody(raw).slice();
    flipped[3]! ^= 0x01;
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body: flipped, headers: { ...rawHeaders, 'webhook-id': 'msg_other' } }))).toMatchObject({ status: 401 });

    const tv = loadVectors<{ valid: Array<{ securityToken: string; bodyBase64: string; authorization: string }> }>('teams/openssl-cross-generated.json').valid[0]!;
    const teams = createEdgeFixture({});
    teams.clock.set(1485983407_000);
    const th = await registerHook(teams, 'teams', { secret: tv.securityToken });
    expect(signTeams(tv.securityToken, vectorBody(tv)).authorization).toBe(tv.authorization);
    expect(await teams.pipeline.handle(edgeRequest({ channel: 'teams', hookId: th.hookId, body: vectorBody(tv), headers: { authorization: tv.authorization } }))).toMatchObject({ status: 202, deliveryId: '1485983408511' });
  });

  it('a captured delivery held back past ±300 s is refused; OFF (_disable timestamp) it is accepted', async () => {
    for (const [disable, expected] of [[[], 401], [['timestamp'], 202]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'slack');
      const captured = await signedRequest(f, 'slack', hook.hookId, SECRETS.slack, nowSec(f.clock), 'Ev-held-back');
      f.clock.advance(10 * 60_000);
      const out = await f.pipeline.handle(captured);
      expect(out.status, `disabled=${disable.join()}`).toBe(expected);
      if (expected === 401) expect(out).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_SKEW' });
    }
  });

  it('a delivery signed for 10 min ahead (a fast sender clock, or a capture pre-signed to be replayed later) is refused; OFF (_disable timestamp) it is accepted', async () => {
    for (const [disable, expected] of [[[], 401], [['timestamp'], 202]] as const) {
      for (const channel of ['standard', 'slack'] as const) {
        const f = createEdgeFixture({ _disable: [...disable] });
        const hook = await registerHook(f, channel);
        const ahead = await signedRequest(f, channel, hook.hookId, SECRETS[channel], nowSec(f.clock) + 600, `Ev-ahead-${channel}`);
        const out = await f.pipeline.handle(ahead);
        expect(out.status, `${channel} disabled=${disable.join()}`).toBe(expected);
        if (expected === 401) expect(out).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_SKEW' });
      }
    }
  });

  it('answers unknown hook ids, wrong channels, stale and bad signatures with byte-identical 401 bodies', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'github');
    const slackHook = await registerHook(f, 'slack');
    const outcomes = await Promise.all([
      f.pipeline.handle(await signedRequest(f, 'github', 'hk-unknown-000', SECRETS.github, nowSec(f.clock), 'x1')),
      f.pipeline.handle(await signedRequest(f, 'github', slackHook.hookId, SECRETS.github, nowSec(f.clock), 'x2')),
      f.pipeline.handle(await signedRequest(f, 'github', hook.hookId, ATTACKER_SECRETS.github, nowSec(f.clock), 'x3')),
      f.pipeline.handle(await signedRequest(f, 'slack', slackHook.hookId, SECRETS.slack, nowSec(f.clock) - 1000, 'x4')),
    ]);
    expect(outcomes.map((o) => (o.kind === 'rejected' ? o.code : o.kind))).toEqual([
      'WEBHOOK_HOOK_UNKNOWN', 'WEBHOOK_CHANNEL_MISMATCH', 'WEBHOOK_SIGNATURE_MISMATCH', 'WEBHOOK_TIMESTAMP_SKEW',
    ]);
    const responses = outcomes.map(publicResponse);
    expect(new Set(responses.map((r) => `${r.status} ${r.body} ${JSON.stringify(r.headers)}`)).size).toBe(1);
  });

  it('rotation: old and new secrets both verify during the grace period, only the new one after it', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'github');
    await f.registry.rotate(hook.hookId, { secret: redact('new-github-secret'), previousGraceSec: 60 });
    f.clock.advance(11_000); // past the registry cache TTL
    expect(await f.pipeline.handle(await signedRequest(f, 'github', hook.hookId, SECRETS.github, nowSec(f.clock), 'old-1'))).toMatchObject({ status: 202 });
    expect(await f.pipeline.handle(await signedRequest(f, 'github', hook.hookId, 'new-github-secret', nowSec(f.clock), 'new-1'))).toMatchObject({ status: 202 });
    f.clock.advance(60_000);
    expect(await f.pipeline.handle(await signedRequest(f, 'github', hook.hookId, SECRETS.github, nowSec(f.clock), 'old-2'))).toMatchObject({ status: 401 });
    expect(await f.pipeline.handle(await signedRequest(f, 'github', hook.hookId, 'new-github-secret', nowSec(f.clock), 'new-2'))).toMatchObject({ status: 202 });
  });
});

describe('T1-S over HTTP: real local host, Cosmos, Service Bus broker, Key Vault (local vault, workload identity)', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  beforeAll(async () => {
    [on, off] = await Promise.all([startEdgeStack({ secrets: 'keyvault' }), startEdgeStack({ secrets: 'file', pipelineOptions: { _disable: ['signature'] } })]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function attack(stack: EdgeStack, sandboxId: string) {
    const hook = await stack.registry.create({ tenantId: 'tenant-a', sandboxId, channel: 'github', allowedEventTypes: ['push'], secret: redact(SECRETS.github) });
    const body = JSON.stringify({ ...githubFixtures.push, after: 'd'.repeat(40), head_commit: null, commits: [] });
    const genuine = await postHook(stack, 'github', hook.hookId, body, await signGithub(SECRETS.github, 'g-1', 'push', body));
    const forgedBody = JSON.stringify({ ...githubFixtures.push, ref: 'refs/heads/attacker', after: 'e'.repeat(40), head_commit: null, commits: [] });
    const forged = await postHook(stack, 'github', hook.hookId, forgedBody, await signGithub(ATTACKER_SECRETS.github, 'g-2', 'push', forgedBody));
    return { genuine, forged, forgedText: await forged.text(), delivered: await stack.drain(sandboxId) };
  }

  it('mitigation ON: octokit-signed delivery accepted, forged one gets the generic 401 and never reaches the session', async () => {
    const r = await attack(on, 'sandbox-t1s-on');
    expect(r.genuine.status).toBe(202);
    expect(r.forged.status).toBe(401);
    expect(r.forgedText).toBe(GENERIC_AUTH_BODY);
    expect(r.delivered.map((d) => d.deliveryId)).toEqual(['g-1']);
    // One receipt each; spread over the chains, so compared without order.
    expect((await on.readReceipts()).map((x) => x.code ?? x.outcome).sort()).toEqual(['WEBHOOK_SIGNATURE_MISMATCH', 'accepted']);
  });

  it('mitigation OFF: the forged push is delivered to the sandbox', async () => {
    const r = await attack(off, 'sandbox-t1s-off');
    expect(r.forged.status).toBe(202);
    expect(r.delivered.map((d) => (d.payload as { ref: string }).ref)).toContain('refs/heads/attacker');
  });
});
