// T1-E "operator API": an operator route (/api/manage/*, /api/rollouts*, every route of the table that is not
// Defends: operator-auth
// anonymous) admits only an Entra principal of the deployment's tenant that holds the operator app role. Tokens are
// real: minted by the local identity endpoint (infra/local/identity) for a workload identity (role assigned) and a
// managed identity (no role), fetched through @azure/identity and the managed-identity protocol, and verified against
// the endpoint's JWKS over HTTPS. A Functions host key alone grants nothing. OFF (`_disable: ['operator-auth']`) the
// same requests reach the handlers.
import { WorkloadIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorAuthenticator } from '../../core/auth/authorize-operator';
import { createOpenIdSigningKeys } from '../../adapters/identity/openid-signing-keys';
import { isOperatorRoute } from '../../functions/http/guard-routes';
import { DEFAULT_OPERATOR_ROLE, loadOperatorAuthSettings } from '../../functions/http/operator-auth-settings';
import { routes } from '../../functions/routes';
import { LOCAL_CLIENT_ID, startIdentityServer, workloadPrincipalIdOf, type IdentityServer } from '../../infra/local/identity/identity-server';
import { settableClock, type SettableClock } from '../core/edge/edge-fixture';
import { samplePath, startAppRouteStack, type AppRouteStack } from '../functions/app-route-stack';
import { Canaries } from './canary';

const OPERATOR_API = 'api://kars-operator';
const operatorRoutes = routes.filter(isOperatorRoute);

interface Tokens { withRole: string; withoutRole: string; wrongAudience: string; foreignIssuer: string }

async function workloadToken(id: IdentityServer, scope: string): Promise<string> {
  const credential = new WorkloadIdentityCredential({
    tenantId: id.tenantId, clientId: id.clientId, tokenFilePath: id.federatedTokenFile, authorityHost: id.authorityHost,
    disableInstanceDiscovery: true, retryOptions: { maxRetries: 0 },
  });
  return (await credential.getToken(scope))!.token;
}

/** The managed-identity protocol of App Service (IDENTITY_ENDPOINT + X-IDENTITY-HEADER). */
async function managedIdentityToken(id: IdentityServer, resource: string): Promise<string> {
  const res = await fetch(`${id.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`, { headers: { 'x-identity-header': id.identityHeader } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function call(stack: AppRouteStack, route: (typeof routes)[number], token: string | undefined): Promise<{ status: number; code?: string; text: string; wwwAuthenticate: string | null }> {
  const method = route.methods[0]!;
  const res = await fetch(`${stack.url}${samplePath(route.route)}`, {
    method,
    // The host key is always sent: what is tested is the app's own check, behind the host's.
    headers: { 'content-type': 'application/json', 'x-functions-key': stack.masterKey, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(method === 'GET' ? {} : { body: '{}' }),
  });
  const text = await res.text();
  return { status: res.status, code: (JSON.parse(text) as { code?: string }).code, text, wwwAuthenticate: res.headers.get('www-authenticate') };
}

describe('T1-E operator routes need an Entra principal with the operator role', () => {
  let id: IdentityServer;
  let foreign: IdentityServer;
  let clock: SettableClock;
  let on: AppRouteStack;
  let off: AppRouteStack;
  let tokens: Tokens;

  beforeAll(async () => {
    // The operator role is assigned to the workload identity's service principal, not to the managed identity.
    const appRoleAssignments = [{ resource: OPERATOR_API, principalId: workloadPrincipalIdOf(LOCAL_CLIENT_ID), roles: [DEFAULT_OPERATOR_ROLE] }];
    [id, foreign] = await Promise.all([startIdentityServer({ appRoleAssignments }), startIdentityServer({ appRoleAssignments })]);
    expect(id.workloadPrincipalId).toBe(workloadPrincipalIdOf(LOCAL_CLIENT_ID));
    clock = settableClock(Date.now());
    const settings = loadOperatorAuthSettings({
      KARS_MODE: 'local', KARS_OPERATOR_TENANT_ID: id.tenantId, KARS_OPERATOR_AUDIENCE: OPERATOR_API, KARS_OPERATOR_AUTHORITY_HOST: id.authorityHost,
    })!;
    const keys = createOpenIdSigningKeys({ jwksUrl: settings.jwksUrl, clock, caCertPem: id.caCertPem });
    const authenticator = createOperatorAuthenticator(settings.policy, keys, clock);
    [on, off] = await Promise.all([
      startAppRouteStack({ guard: { operatorAuthenticator: () => authenticator } }),
      startAppRouteStack({ guard: { operatorAuthenticator: () => authenticator, _disable: ['operator-auth'] } }),
    ]);
    tokens = {
      withRole: await workloadToken(id, `${OPERATOR_API}/.default`),
      withoutRole: await managedIdentityToken(id, OPERATOR_API),
      wrongAudience: await workloadToken(id, 'api://some-other-api/.default'),
      foreignIssuer: await workloadToken(foreign, `${OPERATOR_API}/.default`),
    };
  });
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close(), id?.stop(), foreign?.stop()]);
  });

  it('the tokens are what each case claims (issued by the endpoints, roles as assigned)', () => {
    const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims(tokens.withRole)).toMatchObject({ aud: OPERATOR_API, roles: [DEFAULT_OPERATOR_ROLE], tid: id.tenantId });
    expect(claims(tokens.withoutRole)).toMatchObject({ aud: OPERATOR_API, tid: id.tenantId });
    expect(claims(tokens.withoutRole).roles).toBeUndefined();
    expect(claims(tokens.wrongAudience).aud).toBe('api://some-other-api');
    expect(claims(tokens.foreignIssuer)).toMatchObject({ aud: OPERATOR_API, roles: [DEFAULT_OPERATOR_ROLE] });
    expect(claims(tokens.foreignIssuer).iss).not.toBe(claims(tokens.withRole).iss);
    expect(operatorRoutes.map((r) => r.name)).toEqual(expect.arrayContaining(['hooksCreate', 'hooksGet', 'hooksRotate', 'rolloutStart', 'rolloutStatus', 'rolloutAbort']));
  });

  it.each(operatorRoutes.map((r) => [r.name, r] as const))('ON %s: 401 without a valid token, 403 without the role, allowed with it', async (_n, route) => {
    const canaries = new Canaries();
    for (const t of Object.values(tokens)) canaries.adopt('bearer token', t.split('.')[2]!);
    const results = {
      hostKeyOnly: await call(on, route, undefined),
      garbage: await call(on, route, 'not.a.jwt'),
      wrongAudience: await call(on, route, tokens.wrongAudience),
      foreignIssuer: await call(on, route, tokens.foreignIssuer),
      withoutRole: await call(on, route, tokens.withoutRole),
      withRole: await call(on, route, tokens.withRole),
    };
    for (const k of ['hostKeyOnly', 'garbage', 'wrongAudience', 'foreignIssuer'] as const) {
      expect({ k, status: results[k].status, code: results[k].code }).toEqual({ k, status: 401, code: 'AUTH_REQUIRED' });
      expect(results[k].wwwAuthenticate).toBe('Bearer error="invalid_token"');
    }
    expect({ status: results.withoutRole.status, code: results.withoutRole.code }).toEqual({ status: 403, code: 'AUTH_FORBIDDEN' });
    expect([401, 403]).not.toContain(results.withRole.status);
    expect(results.withRole.code ?? '').not.toMatch(/^AUTH_/);
    // Why a token failed is logged for the operator, never answered; no token part is logged.
    expect(Object.values(results).map((r) => r.text).join('\n')).not.toMatch(/TOKEN_|ROLE_MISSING|issuer|audience/i);
    expect(on.logs.some((l) => l.includes('"reason":"TOKEN_AUDIENCE"'))).toBe(true);
    expect(canaries.scan(on.logs.map((l) => ['log', l] as [string, string]))).toEqual([]);
  });

  it('ON: the token with the role is refused once it has expired (the app clock past exp + skew)', async () => {
    const route = operatorRoutes[0]!;
    const saved = clock.nowMs();
    clock.advance((id.tokenLifetimeSec + 120) * 1000);
    try {
      expect(await call(on, route, tokens.withRole)).toMatchObject({ status: 401, code: 'AUTH_REQUIRED' });
    } finally {
      clock.set(saved);
    }
    expect(on.logs.some((l) => l.includes('"reason":"TOKEN_EXPIRED"'))).toBe(true);
  });

  it.each(operatorRoutes.map((r) => [r.name, r] as const))('OFF %s: the host key alone and a role-less token reach the handler', async (_n, route) => {
    for (const token of [undefined, tokens.withoutRole, tokens.foreignIssuer]) {
      const r = await call(off, route, token);
      expect([401, 403]).not.toContain(r.status);
      expect(r.code ?? '').not.toMatch(/^AUTH_/);
    }
  });

  it('anonymous routes (the webhook edge, health) ask for no operator token', async () => {
    const anonymous = routes.filter((r) => !isOperatorRoute(r));
    expect(anonymous.map((r) => r.name)).toEqual(expect.arrayContaining(['hooksReceive', 'health']));
    const hook = anonymous.find((r) => r.name === 'hooksReceive')!;
    await call(on, hook, undefined);
    // The edge answers (unknown hook, unsigned); the operator check never ran for it.
    expect(on.logs.some((l) => l.includes('"event":"edge.webhook"'))).toBe(true);
    expect(on.logs.some((l) => l.includes('http.operator') && l.includes('"route":"hooksReceive"'))).toBe(false);
  });
});
