import { afterAll, describe, expect, it } from 'vitest';
import { createDocumentReplayGuard, replayDocumentId } from '../../../adapters/edge/document-replay-guard';
import { settableClock, T0_MS } from '../../core/edge/edge-fixture';
import { cosmosBackend, memoryBackend } from './store-backends';

const backends = [memoryBackend(), cosmosBackend()];
afterAll(async () => {
  for (const b of backends) await b.close();
});

describe.each(backends.map((b) => [b.name, b] as const))('document replay guard on %s', (_name, backend) => {
  it('claims a key once; a second claim, from a second guard instance too, is a replay', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const a = createDocumentReplayGuard(store);
    const b = createDocumentReplayGuard(store);
    expect((await a.claim('hk-1:standard:msg_1', T0_MS + 60_000, T0_MS)).status).toBe('fresh');
    expect((await a.claim('hk-1:standard:msg_1', T0_MS + 60_000, T0_MS)).status).toBe('replayed');
    expect((await b.claim('hk-1:standard:msg_1', T0_MS + 60_000, T0_MS)).status).toBe('replayed');
    expect((await b.claim('hk-2:standard:msg_1', T0_MS + 60_000, T0_MS)).status).toBe('fresh');
  });

  it('forgets a claim once it expired', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const guard = createDocumentReplayGuard(store);
    expect((await guard.claim('k', T0_MS + 1000, T0_MS)).status).toBe('fresh');
    clock.advance(999);
    expect((await guard.claim('k', T0_MS + 5000, clock.nowMs())).status).toBe('replayed');
    clock.advance(1);
    expect((await guard.claim('k', T0_MS + 5000, clock.nowMs())).status).toBe('fresh');
    expect((await guard.claim('k', T0_MS + 5000, clock.nowMs())).status).toBe('replayed');
  });

  it('release gives the key back, but never removes a newer claim made by someone else', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const guard = createDocumentReplayGuard(store);
    const first = await guard.claim('k', T0_MS + 1000, T0_MS);
    if (first.status !== 'fresh') throw new Error('expected fresh');
    await first.release();
    expect((await guard.claim('k', T0_MS + 1000, T0_MS)).status).toBe('fresh');

    const old = await guard.claim('j', T0_MS + 1000, T0_MS);
    if (old.status !== 'fresh') throw new Error('expected fresh');
    clock.advance(2000);
    const newer = await guard.claim('j', T0_MS + 9000, clock.nowMs());
    expect(newer.status).toBe('fresh');
    await old.release();
    expect((await guard.claim('j', T0_MS + 9000, clock.nowMs())).status).toBe('replayed');
  });

  it('stores keys as digests (delivery ids may hold characters Cosmos refuses in ids)', async () => {
    const clock = settableClock();
    const store = await backend.open(clock);
    const guard = createDocumentReplayGuard(store);
    expect((await guard.claim('hk-1:teams:a/b?c#d', T0_MS + 1000, T0_MS)).status).toBe('fresh');
    const id = replayDocumentId('hk-1:teams:a/b?c#d');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await store.read(id, id))?.doc).toMatchObject({ id, expiresAtMs: T0_MS + 1000 });
  });
});
