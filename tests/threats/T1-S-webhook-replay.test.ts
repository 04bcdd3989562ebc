// T1-S "Attacker forges channel webhook" by replaying a captured genuine delivery — mitigation: the delivery key
// Defends: replay
// (hook + signed delivery id, or the body digest for GitHub, which signs no id) is claimed in the shared store and a
// second sighting within the window is 409; the claim is a Cosmos document, so it holds across Function instances and
// restarts. With the replay store switched off (`_disable: ['replay']`) the capture is delivered again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../../core/secrets/redacted';
import { githubFixtures, standardFixture } from '../core/webhook/fixtures';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signGithub, signStandard } from '../core/edge/edge-fixture';
import { postHook, startEdgeStack, type EdgeStack } from '../functions/hooks/edge-stack';

const body = JSON.stringify(standardFixture);

describe('T1-S replay of a captured delivery (in-process, memory store)', () => {
  it('ON: the capture is 409 on the same instance and on a second instance sharing the store; OFF: delivered twice', async () => {
    const on = createEdgeFixture();
    const hook = await registerHook(on, 'standard');
    const headers = signStandard(SECRETS.standard, 'msg_captured', nowSec(on.clock), body);
    const capture = () => edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers });
    expect(await on.pipeline.handle(capture())).toMatchObject({ status: 202 });
    expect(await on.pipeline.handle(capture())).toMatchObject({ status: 409, code: 'WEBHOOK_REPLAY' });
    const second = createEdgeFixture({ store: on.store, secrets: on.secrets, clock: on.clock });
    expect(await second.pipeline.handle(capture())).toMatchObject({ status: 409 });
    expect(on.queue.deliveries.length + second.queue.deliveries.length).toBe(1);

    const off = createEdgeFixture({ _disable: ['replay'] });
    const offHook = await registerHook(off, 'standard');
    const offHeaders = signStandard(SECRETS.standard, 'msg_captured', nowSec(off.clock), body);
    for (let i = 0; i < 3; i += 1) {
      expect(await off.pipeline.handle(edgeRequest({ channel: 'standard', hookId: offHook.hookId, body, headers: offHeaders }))).toMatchObject({ status: 202 });
    }
    expect(off.queue.deliveries).toHaveLength(3);
  });

  it('GitHub: re-sending a captured body under a fresh X-GitHub-Delivery id is still a replay (the id is unsigned)', async () => {
    for (const [disable, delivered] of [[[], 1], [['replay'], 2]] as const) {
      const f = createEdgeFixture({ _disable: [...disable] });
      const hook = await registerHook(f, 'github');
      const push = JSON.stringify(githubFixtures.push);
      const first = await signGithub(SECRETS.github, 'delivery-1', 'push', push);
      expect(await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: push, headers: first }))).toMatchObject({ status: 202 });
      const again = await f.pipeline.handle(edgeRequest({ channel: 'github', hookId: hook.hookId, body: push, headers: { ...first, 'x-github-delivery': 'delivery-2-fresh' } }));
      expect(again.status).toBe(disable.length === 0 ? 409 : 202);
      expect(f.queue.deliveries).toHaveLength(delivered);
    }
  });

  it('after the window the timestamp check refuses what the replay store has forgotten', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const headers = signStandard(SECRETS.standard, 'msg_late', nowSec(f.clock), body);
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).toMatchObject({ status: 202 });
    f.clock.advance(301_000);
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).toMatchObject({ status: 401, code: 'WEBHOOK_TIMESTAMP_SKEW' });
  });

  it('a retry after a 429 or a bus outage is not mistaken for a replay', async () => {
    const f = createEdgeFixture();
    const hook = await registerHook(f, 'standard');
    const headers = signStandard(SECRETS.standard, 'msg_retry', nowSec(f.clock), body);
    f.queue.failWith('BUS_UNAVAILABLE');
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).toMatchObject({ status: 503 });
    f.queue.failWith(undefined);
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).toMatchObject({ status: 202 });
    expect(await f.pipeline.handle(edgeRequest({ channel: 'standard', hookId: hook.hookId, body, headers }))).toMatchObject({ status: 409 });
  });
});

describe('T1-S replay over HTTP: real host, Cosmos replay claims, Service Bus', () => {
  let on: EdgeStack;
  let off: EdgeStack;
  beforeAll(async () => {
    [on, off] = await Promise.all([startEdgeStack(), startEdgeStack({ pipelineOptions: { _disable: ['replay'] }, brokerDuplicateWindowMs: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  it('ON: the capture is refused with 409, also after the Function app restarted (claim persisted in Cosmos)', async () => {
    // The ON stack keeps the broker's duplicate detection: only the replay store can make the second POST a 409.
    const hook = await on.registry.create({ tenantId: 'tenant-a', sandboxId: 'sandbox-replay-on', channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const headers = signStandard(SECRETS.standard, 'msg_http_capture', Math.floor(Date.now() / 1000), body);
    expect((await postHook(on, 'standard', hook.hookId, body, headers)).status).toBe(202);
    expect((await postHook(on, 'standard', hook.hookId, body, headers)).status).toBe(409);
    await on.restartApp();
    const afterRestart = await postHook(on, 'standard', hook.hookId, body, headers);
    expect(afterRestart.status).toBe(409);
    expect(await afterRestart.json()).toEqual({ code: 'WEBHOOK_REPLAY', message: 'delivery already received' });
    expect(await on.drain('sandbox-replay-on')).toHaveLength(1);
  });

  it('OFF: every replay of the capture is delivered to the sandbox again', async () => {
    const hook = await off.registry.create({ tenantId: 'tenant-a', sandboxId: 'sandbox-replay-off', channel: 'standard', allowedEventTypes: ['contact.created'], secret: redact(SECRETS.standard) });
    const headers = signStandard(SECRETS.standard, 'msg_http_capture', Math.floor(Date.now() / 1000), body);
    // This stack's broker has duplicate detection off too: the message id is derived from the replay key, so Service
    // Bus would otherwise drop a copy sent within its 10-minute window (defence in depth, not the row's mitigation).
    const statuses = [];
    for (let i = 0; i < 2; i += 1) statuses.push((await postHook(off, 'standard', hook.hookId, body, headers)).status);
    expect(statuses).toEqual([202, 202]);
    expect((await off.readReceipts()).filter((r) => r.outcome === 'accepted')).toHaveLength(2);
    expect((await off.drain('sandbox-replay-off')).map((d) => d.deliveryId)).toEqual(['msg_http_capture', 'msg_http_capture']);
  });
});
