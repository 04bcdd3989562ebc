import { afterAll, describe, expect, it } from 'vitest';
import { createDocumentHookRegistry } from '../../../adapters/edge/document-hook-registry';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { isKarsError } from '../../../core/errors';
import type { SecretSource } from '../../../core/ports/secret-source.port';
import { redact } from '../../../core/secrets/redacted';
import { SECRETS, settableClock, T0_MS } from '../../core/edge/edge-fixture';
import { cosmosBackend, memoryBackend } from './store-backends';
import { settledCode } from '../../support/settled-code';

const backends = [memoryBackend(), cosmosBackend()];
afterAll(async () => {
  for (const b of backends) await b.close();
});

const NEW_GH_SECRET = 'rotated-github-secret-2026';
const base = { tenantId: 'tenant-a', sandboxId: 'sandbox-a', channel: 'github' as const, allowedEventTypes: ['push'] };

/** Counts vault reads, so the cache can be observed. */
function countingSecrets(inner: SecretSource): SecretSource & { reads: number } {
  const counter = {
    reads: 0,
    getSecret: (name: string) => { counter.reads += 1; return inner.getSecret(name); },
    setSecret: (name: string, value: Parameters<SecretSource['setSecret']>[1]) => inner.setSecret(name, value),
  };
  return counter;
}

describe.each(backends.map((b) => [b.name, b] as const))('document hook registry on %s', (_name, backend) => {
  it('creates a registration holding secret names only, and resolves the secret values for the edge', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const secrets = createMemorySecretSource();
    const registry = createDocumentHookRegistry(store, secrets, { clock });
    const reg = await registry.create({ ...base, secret: redact(SECRETS.github) });
    expect(reg).toMatchObject({ ...base, agentId: 'sandbox-a', revision: 1, createdAtMs: T0_MS });
    expect(reg.hookId).toMatch(/^hk-[0-9a-f]{24}$/);
    expect(reg.secrets).toHaveLength(1);
    expect(reg.secrets[0]!.name).toMatch(new RegExp(`^whk-${reg.hookId}-r1-[0-9a-f]{8}$`));
    expect(JSON.stringify(await store.read(reg.hookId, reg.hookId))).not.toContain(SECRETS.github);
    expect(await registry.get(reg.hookId)).toEqual(reg);
    const resolved = await registry.lookup(reg.hookId, clock.nowMs());
    expect(resolved?.registration).toEqual(reg);
    expect(resolved?.secrets.map((s) => s.reveal())).toEqual([SECRETS.github]);
    expect(await registry.lookup('hk-nope', clock.nowMs())).toBeUndefined();
    expect(await registry.lookup('not a hook id!', clock.nowMs())).toBeUndefined();
  });

  it('rotates: two secrets verify during the grace period (newest first), only the new one after it', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const registry = createDocumentHookRegistry(store, createMemorySecretSource(), { clock, cacheTtlMs: 60_000 });
    const reg = await registry.create({ ...base, hookId: 'hk-rotate-1', secret: redact(SECRETS.github) });
    clock.advance(1000);
    const rotated = await registry.rotate(reg.hookId, { secret: redact(NEW_GH_SECRET), previousGraceSec: 600 });
    expect(rotated.revision).toBe(2);
    expect(rotated.secrets.map((s) => s.retiresAtMs)).toEqual([undefined, T0_MS + 1000 + 600_000]);
    expect((await registry.lookup(reg.hookId, clock.nowMs()))?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET, SECRETS.github]);
    // Retirement is judged at every call, even from the cache.
    expect((await registry.lookup(reg.hookId, T0_MS + 1000 + 600_000))?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET]);
    // A second rotation drops the oldest: never more than two.
    clock.advance(1000);
    const third = await registry.rotate(reg.hookId, { secret: redact('third-secret-xyz'), previousGraceSec: 600 });
    expect(third.secrets).toHaveLength(2);
    expect(third.secrets[1]!.name).toBe(rotated.secrets[0]!.name);
    const immediate = await registry.rotate(reg.hookId, { secret: redact('fourth-secret-xyz'), previousGraceSec: 0 });
    expect(immediate.secrets).toHaveLength(1);
  });

  it('hands out the same secret objects while the registration is cached (the key cache keys on them); exact at every instant', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const registry = createDocumentHookRegistry(store, createMemorySecretSource(), { clock, cacheTtlMs: 60_000 });
    const reg = await registry.create({ ...base, hookId: 'hk-prebuilt-1', secret: redact(SECRETS.github) });
    const first = await registry.lookup(reg.hookId, clock.nowMs());
    const second = await registry.lookup(reg.hookId, clock.nowMs() + 1);
    expect(second?.secrets[0]).toBe(first?.secrets[0]);
    await registry.rotate(reg.hookId, { secret: redact(NEW_GH_SECRET), previousGraceSec: 30 });
    const retiresAtMs = T0_MS + 30_000;
    const during = await registry.lookup(reg.hookId, retiresAtMs - 1);
    expect(during?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET, SECRETS.github]);
    expect((await registry.lookup(reg.hookId, retiresAtMs - 1))?.secrets[0]).toBe(during?.secrets[0]);
    const after = await registry.lookup(reg.hookId, retiresAtMs);
    expect(after?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET]);
    expect(after?.secrets[0]).toBe(during?.secrets[0]);
    // An earlier instant again (another request read its clock first): both active, as computed for that instant.
    expect((await registry.lookup(reg.hookId, retiresAtMs - 2))?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET, SECRETS.github]);
    clock.advance(60_000);
    expect((await registry.lookup(reg.hookId, clock.nowMs()))?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET]);
  });

  it('refuses bad input with INPUT_INVALID naming the field, never the secret', async () => {
    const clock = settableClock();
    const registry = createDocumentHookRegistry(await backend.open(clock), createMemorySecretSource(), { clock });
    const canary = 'whsec_not-base64-canary-6b1d';
    for (const bad of [
      { ...base, channel: 'standard' as const, secret: redact(canary) },
      { ...base, tenantId: 'bad tenant', secret: redact(SECRETS.github) },
      { ...base, allowedEventTypes: [], secret: redact(SECRETS.github) },
      { ...base, hookId: 'x', secret: redact(SECRETS.github) },
    ]) {
      try {
        await registry.create(bad);
        throw new Error('should have failed');
      } catch (e) {
        expect(isKarsError(e) && e.code).toBe('INPUT_INVALID');
        expect(String((e as Error).message)).not.toContain(canary);
      }
    }
    const reg = await registry.create({ ...base, secret: redact(SECRETS.github) });
    expect(await settledCode(registry.rotate(reg.hookId, { secret: redact('ok-secret'), previousGraceSec: -1 }))).toBe('INPUT_INVALID');
    expect(await settledCode(registry.rotate(reg.hookId, { secret: redact('line\n'), previousGraceSec: 0 }))).toBe('INPUT_INVALID');
    expect(await settledCode(registry.rotate('hk-missing', { secret: redact('ok-secret'), previousGraceSec: 0 }))).toBe('STORE_NOT_FOUND');
  });

  it('refuses a duplicate hook id and leaves the existing hook and its secret untouched', async () => {
    const clock = settableClock();
    const registry = createDocumentHookRegistry(await backend.open(clock), createMemorySecretSource(), { clock, cacheTtlMs: 0 });
    const first = await registry.create({ ...base, hookId: 'hk-dup-1', secret: redact(SECRETS.github) });
    expect(await settledCode(registry.create({ ...base, hookId: 'hk-dup-1', tenantId: 'tenant-evil', secret: redact('attacker-secret') }))).toBe('STORE_CONFLICT');
    expect(await registry.get('hk-dup-1')).toEqual(first);
    expect((await registry.lookup('hk-dup-1', clock.nowMs()))?.secrets.map((s) => s.reveal())).toEqual([SECRETS.github]);
  });

  it('caches registrations and secret values for the TTL, unknown ids for the negative TTL', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const secrets = countingSecrets(createMemorySecretSource());
    const registry = createDocumentHookRegistry(store, secrets, { clock, cacheTtlMs: 10_000, negativeCacheTtlMs: 2000 });
    const other = createDocumentHookRegistry(store, secrets, { clock });
    expect(await registry.lookup('hk-later-1', clock.nowMs())).toBeUndefined();
    await other.create({ ...base, hookId: 'hk-later-1', secret: redact(SECRETS.github) });
    expect(await registry.lookup('hk-later-1', clock.nowMs())).toBeUndefined();
    clock.advance(2000);
    expect(await registry.lookup('hk-later-1', clock.nowMs())).toBeDefined();
    const reads = secrets.reads;
    await Promise.all([1, 2, 3].map(() => registry.lookup('hk-later-1', clock.nowMs())));
    expect(secrets.reads).toBe(reads);
    // A rotation on another instance shows after the TTL; the old secret still verifies meanwhile (grace).
    await other.rotate('hk-later-1', { secret: redact(NEW_GH_SECRET), previousGraceSec: 3600 });
    expect((await registry.lookup('hk-later-1', clock.nowMs()))?.secrets.map((s) => s.reveal())).toEqual([SECRETS.github]);
    clock.advance(10_000);
    expect((await registry.lookup('hk-later-1', clock.nowMs()))?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET, SECRETS.github]);
  });

  it('fails loudly when the current secret is missing from the vault, tolerates a missing retiring one', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const secrets = createMemorySecretSource();
    const registry = createDocumentHookRegistry(store, secrets, { clock, cacheTtlMs: 0 });
    const reg = await registry.create({ ...base, secret: redact(SECRETS.github) });
    const elsewhere = createDocumentHookRegistry(store, createMemorySecretSource(), { clock, cacheTtlMs: 0 });
    expect(await settledCode(elsewhere.lookup(reg.hookId, clock.nowMs()))).toBe('SECRET_NOT_FOUND');
    // Rotate through a registry whose vault lacks the old secret: lookup still works with the new one.
    const rotated = await elsewhere.rotate(reg.hookId, { secret: redact(NEW_GH_SECRET), previousGraceSec: 600 });
    expect(rotated.secrets).toHaveLength(2);
    expect((await elsewhere.lookup(reg.hookId, clock.nowMs()))?.secrets.map((s) => s.reveal())).toEqual([NEW_GH_SECRET]);
  });

  it('lets exactly one of two concurrent rotations win (ETag), the other gets STORE_PRECONDITION_FAILED', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const secrets = createMemorySecretSource();
    const registry = createDocumentHookRegistry(store, secrets, { clock, cacheTtlMs: 0 });
    const reg = await registry.create({ ...base, secret: redact(SECRETS.github) });
    const results = await Promise.all([
      settledCode(registry.rotate(reg.hookId, { secret: redact('race-a-secret'), previousGraceSec: 60 })),
      settledCode(registry.rotate(reg.hookId, { secret: redact('race-b-secret'), previousGraceSec: 60 })),
    ]);
    expect(results.sort()).toEqual(['STORE_PRECONDITION_FAILED', 'resolved']);
    expect((await registry.get(reg.hookId))?.revision).toBe(2);
  });
});
