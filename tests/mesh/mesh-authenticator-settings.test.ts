// The authenticator the app builds from its settings carries the router token's maximum lifetime (T4-S): 1 h by
// default, the router pod's projected token expirationSeconds; a longer-lived token, valid in every other respect, is
// refused unless the operator raised the setting.
import { describe, expect, it } from 'vitest';
import { createMeshAuthenticator } from '../../functions/mesh/build-mesh-deps';
import { loadMeshSettings } from '../../functions/mesh/mesh-settings';
import { createServiceAccountIssuer } from '../../infra/local/identity/service-account-issuer';

const ISSUER = 'https://oidc.cluster.test/oidc';
const issuer = createServiceAccountIssuer(ISSUER, 'system:serviceaccount:sb-a:kars-router');
const jwks = (async () => new Response(JSON.stringify(issuer.jwks()))) as typeof fetch;
const env = { KARS_MESH_OIDC_ISSUER: ISSUER, KARS_MESH_OIDC_JWKS_URL: `${ISSUER}/openid/v1/jwks` };
const token = (lifetimeSec: number): string => issuer.mint({ audience: 'kars-mesh', lifetimeSec });

describe('router token maximum lifetime from the settings', () => {
  it('defaults to 1 h: a 1 h token passes, a 2 h or 48 h token is refused (lifetime)', async () => {
    const settings = loadMeshSettings(env);
    expect(settings.routerTokenMaxLifetimeSec).toBe(3600);
    const auth = createMeshAuthenticator(settings, jwks);
    expect(await auth.authenticate(token(3600))).toEqual({ ok: true, value: { sandboxId: 'sb-a' } });
    expect(await auth.authenticate(token(7200))).toMatchObject({ ok: false, code: 'lifetime' });
    expect(await auth.authenticate(token(48 * 3600))).toMatchObject({ ok: false, code: 'lifetime' });
  });

  it('KARS_MESH_ROUTER_TOKEN_MAX_LIFETIME_SEC moves the bound, within 600 s .. 48 h', async () => {
    const auth = createMeshAuthenticator(loadMeshSettings({ ...env, KARS_MESH_ROUTER_TOKEN_MAX_LIFETIME_SEC: '7200' }), jwks);
    expect((await auth.authenticate(token(7200))).ok).toBe(true);
    expect(await auth.authenticate(token(7201))).toMatchObject({ ok: false, code: 'lifetime' });
    expect(() => loadMeshSettings({ ...env, KARS_MESH_ROUTER_TOKEN_MAX_LIFETIME_SEC: String(49 * 3600) })).toThrow(/KARS_MESH_ROUTER_TOKEN_MAX_LIFETIME_SEC/);
  });
});
