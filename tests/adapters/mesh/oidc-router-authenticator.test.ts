// The router-token authenticator's key handling: fails closed without keys, picks up a rotated issuer key on an unknown
// kid, and keeps serving cached keys while the issuer is briefly unreachable.
import { describe, expect, it } from 'vitest';
import { createOidcRouterAuthenticator } from '../../../adapters/mesh/oidc-router-authenticator';
import { createServiceAccountIssuer } from '../../../infra/local/identity/service-account-issuer';

const ISSUER = 'https://oidc.cluster.test/oidc';
const mint = (issuer: ReturnType<typeof createServiceAccountIssuer>, ns = 'sb-a') =>
  issuer.mint({ subject: `system:serviceaccount:${ns}:kars-router`, audience: 'kars-mesh' });

describe('createOidcRouterAuthenticator', () => {
  it('names the sandbox; fails closed (keys-unavailable) when the JWKS never answered; uses cached keys when it stops answering', async () => {
    const issuer = createServiceAccountIssuer(ISSUER, '');
    let up = false;
    let now = Date.now();
    const auth = createOidcRouterAuthenticator({
      issuer: ISSUER, jwksUrl: `${ISSUER}/openid/v1/jwks`, audience: 'kars-mesh', serviceAccounts: ['kars-router'],
      clock: { nowMs: () => now }, cacheTtlMs: 1000,
      fetchImpl: async () => (up ? new Response(JSON.stringify(issuer.jwks())) : new Response('down', { status: 503 })),
    });
    expect(await auth.authenticate(mint(issuer))).toMatchObject({ ok: false, code: 'keys-unavailable' });
    up = true;
    // Within the failure backoff (1 s) nobody fetches: still keys-unavailable.
    expect(await auth.authenticate(mint(issuer))).toMatchObject({ ok: false, code: 'keys-unavailable' });
    now += 1000;
    expect(await auth.authenticate(mint(issuer))).toEqual({ ok: true, value: { sandboxId: 'sb-a' } });
    up = false;
    now += 5000;
    expect(await auth.authenticate(mint(issuer, 'sb-b'))).toEqual({ ok: true, value: { sandboxId: 'sb-b' } });
    expect(await auth.authenticate(undefined)).toMatchObject({ ok: false, code: 'missing' });
  });

  it('refetches on an unknown kid after the minimum gap (issuer key rotation)', async () => {
    let current = createServiceAccountIssuer(ISSUER, '');
    let now = Date.now();
    let fetches = 0;
    const auth = createOidcRouterAuthenticator({
      issuer: ISSUER, jwksUrl: `${ISSUER}/openid/v1/jwks`, audience: 'kars-mesh', serviceAccounts: ['kars-router'],
      clock: { nowMs: () => now }, minRefetchMs: 30_000,
      fetchImpl: async () => { fetches += 1; return new Response(JSON.stringify(current.jwks())); },
    });
    expect((await auth.authenticate(mint(current))).ok).toBe(true);
    current = createServiceAccountIssuer(ISSUER, '');
    expect(await auth.authenticate(mint(current))).toMatchObject({ ok: false, code: 'unknown-key' });
    now += 30_001;
    expect((await auth.authenticate(mint(current))).ok).toBe(true);
    expect(fetches).toBe(2);
  });

  it('a flood of unknown-kid tokens while the issuer fails costs a few fetches, not one per token (T4-D)', async () => {
    const issuer = createServiceAccountIssuer(ISSUER, '');
    const stranger = createServiceAccountIssuer(ISSUER, '');
    let now = Date.now();
    let fetches = 0;
    let up = true;
    const auth = createOidcRouterAuthenticator({
      issuer: ISSUER, jwksUrl: `${ISSUER}/openid/v1/jwks`, audience: 'kars-mesh', serviceAccounts: ['kars-router'],
      clock: { nowMs: () => now }, minRefetchMs: 30_000, failureBackoffMs: 1000, maxFailureBackoffMs: 60_000,
      fetchImpl: async () => { fetches += 1; return up ? new Response(JSON.stringify(issuer.jwks())) : new Response('down', { status: 503 }); },
    });
    expect((await auth.authenticate(mint(issuer))).ok).toBe(true);
    expect(fetches).toBe(1);
    // The issuer goes down; 10 minutes of unknown-kid tokens, 50 per second.
    up = false;
    const [unknownKid, known] = [mint(stranger), mint(issuer)];
    for (let i = 0; i < 30_000; i += 1) {
      now += 20;
      expect((await auth.authenticate(unknownKid)).ok).toBe(false);
      if (i % 1000 === 0) expect((await auth.authenticate(known)).ok, 'cached keys keep serving').toBe(true);
    }
    // One attempt per 30 s minimum gap at most (the backoff reaches 60 s): ~12 in 10 minutes, never one per token.
    expect(fetches - 1).toBeLessThanOrEqual(21);
    expect(fetches - 1).toBeGreaterThanOrEqual(5);
  });

  it('a cold start against a failing issuer backs off (1 s, 2 s, 4 s, ... capped) instead of fetching per request', async () => {
    const issuer = createServiceAccountIssuer(ISSUER, '');
    let now = Date.now();
    const at: number[] = [];
    const start = now;
    const auth = createOidcRouterAuthenticator({
      issuer: ISSUER, jwksUrl: `${ISSUER}/openid/v1/jwks`, audience: 'kars-mesh', serviceAccounts: ['kars-router'],
      clock: { nowMs: () => now }, failureBackoffMs: 1000, maxFailureBackoffMs: 8000,
      fetchImpl: async () => { at.push(now - start); return new Response('down', { status: 503 }); },
    });
    const token = mint(issuer);
    for (let i = 0; i < 300; i += 1) {
      expect(await auth.authenticate(token)).toMatchObject({ ok: false, code: 'keys-unavailable' });
      now += 100;
    }
    // 30 s of requests every 100 ms: attempts at 0, 1, 3, 7, 15, 23 s (gaps 1, 2, 4, 8, 8).
    expect(at).toEqual([0, 1000, 3000, 7000, 15000, 23000]);
  });
});
