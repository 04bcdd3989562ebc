// T3-E "stolen token used outside cluster": the router's tokens are scoped to one audience and used at most 1 h.
// Defends: a stolen router token that outlives its hour (an old token handed back by MSAL or IMDS caches still in use) or opens more than the model endpoint.
// Caches below the router (MSAL, IMDS) hand back old tokens that are still unexpired (managed-identity tokens live up
// to 24 h). The router rebuilds its credential to get a younger one and fails closed when none comes; with
// `token-max-age` off it forwards the old token. Tokens are cached and refreshed before expiry or maximum age, one
// fetch for concurrent callers; the real workload-identity token is for the model audience only and lives <= 1 h.
import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFreshTokenSource } from '../../adapters/identity/fresh-token-source';
import { COGNITIVE_SERVICES_SCOPE } from '../../core/router/model-audience';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { chatBody, okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A token endpoint with a cache like IMDS: per credential instance (`perInstance`) or shared by all of them. */
function fakeProvider(clock: { now: number }, lifetimeMs: number, cache: 'per-instance' | 'shared') {
  let shared: AccessToken | undefined;
  let issued = 0;
  let instances = 0;
  const mint = (): AccessToken => {
    issued++;
    const iat = Math.floor(clock.now / 1000);
    return { token: `${b64url({ alg: 'RS256' })}.${b64url({ iat, exp: iat + lifetimeMs / 1000, n: issued })}.sig`, expiresOnTimestamp: clock.now + lifetimeMs };
  };
  return {
    stats: () => ({ issued, instances }),
    newCredential: (): TokenCredential => {
      instances++;
      let own: AccessToken | undefined;
      return {
        async getToken() {
          if (cache === 'shared') return (shared ??= mint());
          return (own ??= mint());
        },
      };
    },
  };
}

const iatOf = (authorization: string | undefined): number =>
  (JSON.parse(Buffer.from(String(authorization).split('.')[1]!, 'base64url').toString()) as { iat: number }).iat * 1000;

let upstream: TestUpstream;
beforeAll(async () => {
  upstream = await startTestUpstream((_req, res) => okJson(res));
});
afterAll(async () => {
  await upstream?.stop();
});

async function withRouter(cache: 'per-instance' | 'shared', disable: boolean, run: (s: RouterStack, clock: { now: number }) => Promise<void>): Promise<void> {
  const clock = { now: T0 };
  const provider = fakeProvider(clock, 24 * 60 * MIN, cache);
  const stack = await startRouterStack({
    upstreamUrl: upstream.url, credential: provider.newCredential, clock: { nowMs: () => clock.now },
    tokenOptions: { clock: { nowMs: () => clock.now } }, ...(disable ? { _disable: ['token-max-age'] } : {}),
  });
  try {
    await run(stack, clock);
  } finally {
    await stack.stop();
  }
}

const call = (s: RouterStack) => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });

describe('T3-E token lifetime', () => {
  it('ON: a 24 h token handed back from a cache 61 min after issue is replaced by a fresh one', async () => {
    await withRouter('per-instance', false, async (s, clock) => {
      expect((await call(s)).status).toBe(200);
      expect(iatOf(upstream.seen.at(-1)!.headers.authorization)).toBe(T0);
      clock.now = T0 + 61 * MIN;
      expect((await call(s)).status).toBe(200);
      expect(T0 + 61 * MIN - iatOf(upstream.seen.at(-1)!.headers.authorization)).toBeLessThan(60 * MIN);
    });
  });

  it('ON: when the provider has nothing younger than 1 h, the router fails closed (503) and calls no endpoint', async () => {
    await withRouter('shared', false, async (s, clock) => {
      await call(s);
      const before = upstream.seen.length;
      clock.now = T0 + 61 * MIN;
      const r = await call(s);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { code: string }).code).toBe('IDENTITY_UNAVAILABLE');
      expect(upstream.seen.length).toBe(before);
    });
  });

  it('OFF (token-max-age): the 61-minute-old token is forwarded', async () => {
    for (const cache of ['per-instance', 'shared'] as const) {
      await withRouter(cache, true, async (s, clock) => {
        await call(s);
        clock.now = T0 + 61 * MIN;
        expect((await call(s)).status).toBe(200);
        expect(T0 + 61 * MIN - iatOf(upstream.seen.at(-1)!.headers.authorization)).toBe(61 * MIN);
      });
    }
  });

  it('caches, refreshes 5 min before expiry or maximum age, one fetch for concurrent callers', async () => {
    const clock = { now: T0 };
    const provider = fakeProvider(clock, 60 * MIN, 'per-instance');
    const source = createFreshTokenSource(provider.newCredential, { clock: { nowMs: () => clock.now } });
    await Promise.all(Array.from({ length: 20 }, () => source.getToken(COGNITIVE_SERVICES_SCOPE)));
    expect(provider.stats().issued).toBe(1);
    clock.now = T0 + 54 * MIN;
    await source.getToken(COGNITIVE_SERVICES_SCOPE);
    expect(provider.stats().issued).toBe(1);
    clock.now = T0 + 56 * MIN;
    const t = await source.getToken(COGNITIVE_SERVICES_SCOPE);
    expect(provider.stats().issued).toBe(2);
    expect(iatOf(`x.${t.token.reveal().split('.')[1]}`)).toBe(T0 + 56 * MIN);
    expect(String(t.token)).toBe('[REDACTED]');
  });
});

describe('T3-E the real workload-identity token', () => {
  let stack: RouterStack;
  beforeAll(async () => {
    stack = await startRouterStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is for the model audience only and lives at most one hour', async () => {
    const r = await call(stack);
    expect(r.status).toBe(200);
    const token = String(stack.upstream!.requests().at(-1)!.headers.authorization).replace(/^Bearer /, '');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: string; iat: number; exp: number };
    expect(claims.aud).toBe('https://cognitiveservices.azure.com');
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(3600);
    // Stolen, it opens nothing else: Key Vault (same verifier as the local vault) refuses it.
    expect((await stack.identity.verifyAccessToken(token, 'https://vault.azure.net')).ok).toBe(false);
    expect((await stack.identity.verifyAccessToken(token, 'https://cognitiveservices.azure.com')).ok).toBe(true);
  });
});
