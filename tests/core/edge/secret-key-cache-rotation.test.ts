// The decoded-key cache (core/webhook/secret-key-cache.ts) and the registry's prebuilt answer must never let a secret
// verify longer than the registration says: a rotation without grace cuts the old secret off at once, a retiring secret
// stops at retiresAtMs although the registration, its secret objects and their decoded keys are all still cached, and
// another instance switches over when its registry cache expires.
import { describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { createEdgeFixture, edgeRequest, nowSec, registerHook, SECRETS, signStandard, type EdgeFixture } from './edge-fixture';

const NEW_SECRET = `whsec_${Buffer.from('another 32-byte secret, rotated!').toString('base64')}`;
const body = JSON.stringify({ type: 'contact.created', timestamp: '2026-01-01T00:00:00Z', data: { id: 1 } });
let seq = 0;

async function send(f: EdgeFixture, hookId: string, secret: string) {
  seq += 1;
  const headers = signStandard(secret, `msg_rot_${seq}`, nowSec(f.clock), body);
  return f.pipeline.handle(edgeRequest({ channel: 'standard', hookId, body, headers }));
}

const codeOf = (outcome: { kind: string; code?: string; status: number }) => (outcome.kind === 'rejected' ? outcome.code : outcome.status);

describe('secret key cache across rotations', () => {
  it('a rotation without grace stops the old secret at once; the new one verifies', async () => {
    const f = createEdgeFixture({ registryOptions: { cacheTtlMs: 600_000 } });
    const hook = await registerHook(f, 'standard');
    expect(codeOf(await send(f, hook.hookId, SECRETS.standard))).toBe(202);
    await f.registry.rotate(hook.hookId, { secret: redact(NEW_SECRET), previousGraceSec: 0 });
    expect(codeOf(await send(f, hook.hookId, SECRETS.standard))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(codeOf(await send(f, hook.hookId, NEW_SECRET))).toBe(202);
  });

  it('a retiring secret stops verifying at retiresAtMs while everything is still cached', async () => {
    const f = createEdgeFixture({ registryOptions: { cacheTtlMs: 600_000 } });
    const hook = await registerHook(f, 'standard');
    await f.registry.rotate(hook.hookId, { secret: redact(NEW_SECRET), previousGraceSec: 60 });
    expect(codeOf(await send(f, hook.hookId, SECRETS.standard))).toBe(202);
    expect(codeOf(await send(f, hook.hookId, NEW_SECRET))).toBe(202);
    f.clock.advance(59_999);
    expect(codeOf(await send(f, hook.hookId, SECRETS.standard))).toBe(202);
    f.clock.advance(1);
    expect(codeOf(await send(f, hook.hookId, SECRETS.standard))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(codeOf(await send(f, hook.hookId, NEW_SECRET))).toBe(202);
  });

  it('another instance sharing the store switches to the rotated secret when its registry cache expires', async () => {
    const a = createEdgeFixture({ registryOptions: { cacheTtlMs: 10_000 } });
    const b = createEdgeFixture({ store: a.store, secrets: a.secrets, clock: a.clock, registryOptions: { cacheTtlMs: 10_000 } });
    const hook = await registerHook(a, 'standard');
    expect(codeOf(await send(b, hook.hookId, SECRETS.standard))).toBe(202);
    await a.registry.rotate(hook.hookId, { secret: redact(NEW_SECRET), previousGraceSec: 0 });
    // Within b's cache TTL the old registration (and its decoded key) is still b's view: the documented 10 s window.
    expect(codeOf(await send(b, hook.hookId, SECRETS.standard))).toBe(202);
    expect(codeOf(await send(b, hook.hookId, NEW_SECRET))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    a.clock.advance(10_000);
    expect(codeOf(await send(b, hook.hookId, SECRETS.standard))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
    expect(codeOf(await send(b, hook.hookId, NEW_SECRET))).toBe(202);
  });
});
