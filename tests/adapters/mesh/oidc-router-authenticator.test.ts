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
});
