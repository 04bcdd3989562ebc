// The router's trust score source against a scripted app (the local-plane behaviour is in
// tests/integration/trust/router-trust-source.test.ts): a poll answered from an older read never makes an old cached
// score current again, and the cache is bounded however many DIDs knock.
import { describe, expect, it } from 'vitest';
import { createHttpTrustScoreSource, MAX_CACHED_DIDS } from '../../../sandbox-node/router/http-trust-score-source';

function scriptedApp() {
  const state = { version: 1, pollVersion: undefined as number | undefined, scores: new Map<string, number>(), scoreReads: 0 };
  const fetchImpl: typeof fetch = async (input) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith('/mesh/trust/version')) return Response.json({ version: state.pollVersion ?? state.version });
    state.scoreReads += 1;
    const did = decodeURIComponent(url.pathname.split('/').at(-1)!);
    const score = state.scores.get(did);
    return Response.json({ subject: did, observer: 'sb', version: state.version, score: score ?? 300, source: score === undefined ? 'unknown' : 'direct' });
  };
  return { state, fetchImpl };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('createHttpTrustScoreSource', () => {
  it('a poll answering an older version than a score read saw drops the cache instead of reviving old scores', async () => {
    const app = scriptedApp();
    app.state.scores.set('did:web:peer', 500);
    const s = createHttpTrustScoreSource({ apiBase: 'http://app.test/api', tenantId: 't1', routerToken: async () => 'tok', fetchImpl: app.fetchImpl, pollMs: 60_000, ttlMs: 60_000, maxPollAgeMs: 60_000 });
    s.start();
    await settle();
    expect(await s.scoreOf('did:web:peer')).toBe(500);
    // The peer is revoked (version 2); another DID's read sees version 2 first.
    app.state.version = 2;
    app.state.scores.set('did:web:peer', 300);
    await s.scoreOf('did:web:other');
    expect(s.version()).toBe(2);
    // Then a poll answers from a read made before the write.
    app.state.pollVersion = 1;
    await s.stop();
    s.start();
    await settle();
    expect(s.version()).toBe(1);
    expect(await s.scoreOf('did:web:peer')).toBe(300);
    await s.stop();
  });

  it(`keeps at most ${MAX_CACHED_DIDS} DIDs, evicting the oldest`, async () => {
    const app = scriptedApp();
    const s = createHttpTrustScoreSource({ apiBase: 'http://app.test/api', tenantId: 't1', routerToken: async () => 'tok', fetchImpl: app.fetchImpl, pollMs: 60_000, ttlMs: 60_000, maxPollAgeMs: 60_000 });
    s.start();
    await settle();
    for (let i = 0; i <= MAX_CACHED_DIDS; i++) app.state.scores.set(`did:web:p${i}`, 400), await s.scoreOf(`did:web:p${i}`);
    const reads = app.state.scoreReads;
    expect(await s.scoreOf(`did:web:p${MAX_CACHED_DIDS}`)).toBe(400);
    expect(app.state.scoreReads).toBe(reads); // the newest: cached
    expect(await s.scoreOf('did:web:p0')).toBe(400);
    expect(app.state.scoreReads).toBe(reads + 1); // the oldest: evicted, read again
    await s.stop();
  });
});
