// Operator auth settings: Azure mode cannot run operator routes without Entra settings (fail closed, 500
// CONFIG_INVALID), local mode without them keeps the local host's key check only; errors name keys, never values.
import { describe, expect, it } from 'vitest';
import { isKarsError } from '../../../core/errors';
import { azureHostAuthLevel, entraOperatorAuthConfigured, guardRoutes, isOperatorRoute } from '../../../functions/http/guard-routes';
import { routes } from '../../../functions/routes';
import { loadOperatorAuthSettings, OPERATOR_AUTH_SETTING_KEYS } from '../../../functions/http/operator-auth-settings';
import { operatorAuthenticatorFromEnv } from '../../../functions/http/operator-auth';
import { silentLogger } from '../../../core/ports/logger.port';
import type { RouteDef } from '../../../functions/route-def';

const TENANT = '11111111-2222-4333-8444-555555555555';
const APP = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isKarsError(e) ? e.code : 'other';
  }
  return undefined;
}

describe('loadOperatorAuthSettings', () => {
  it('azure mode without tenant or audience: CONFIG_INVALID naming the keys', () => {
    expect(codeOf(() => loadOperatorAuthSettings({}))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadOperatorAuthSettings({ KARS_MODE: 'azure', KARS_OPERATOR_TENANT_ID: TENANT }))).toBe('CONFIG_INVALID');
    expect(() => loadOperatorAuthSettings({ KARS_OPERATOR_TENANT_ID: 'canary-not-a-guid', KARS_OPERATOR_AUDIENCE: APP })).toThrow(/KARS_OPERATOR_TENANT_ID/);
    expect(() => loadOperatorAuthSettings({ KARS_OPERATOR_TENANT_ID: 'canary-not-a-guid', KARS_OPERATOR_AUDIENCE: APP })).not.toThrow(/canary/);
  });

  it('local mode without them: no Entra check (the local host key stands); one without the other is an error', () => {
    expect(loadOperatorAuthSettings({ KARS_MODE: 'local' })).toBeUndefined();
    expect(codeOf(() => loadOperatorAuthSettings({ KARS_MODE: 'local', KARS_OPERATOR_AUDIENCE: APP }))).toBe('CONFIG_INVALID');
  });

  it('derives v2 issuer, JWKS and both audience spellings from the public cloud authority by default', () => {
    const s = loadOperatorAuthSettings({ KARS_OPERATOR_TENANT_ID: TENANT, KARS_OPERATOR_AUDIENCE: APP })!;
    expect(s.policy).toMatchObject({
      tenantId: TENANT, role: 'Kars.Operator', issuers: [`https://login.microsoftonline.com/${TENANT}/v2.0`], audiences: [APP, `api://${APP}`],
    });
    expect(s.jwksUrl).toBe(`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`);
    const gov = loadOperatorAuthSettings({ KARS_OPERATOR_TENANT_ID: TENANT, KARS_OPERATOR_AUDIENCE: APP, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' })!;
    expect(gov.policy.issuers).toEqual([`https://login.microsoftonline.us/${TENANT}/v2.0`]);
  });

  it('has no switch that turns the check off', () => {
    expect(OPERATOR_AUTH_SETTING_KEYS.some((k) => /DISABLE|SKIP|OFF/i.test(k))).toBe(false);
  });
});

describe('guardRoutes without operator settings in azure mode', () => {
  it('fails closed: an operator route answers 500 CONFIG_INVALID and its handler never runs', async () => {
    let ran = 0;
    const route: RouteDef = { name: 'op', methods: ['GET'], route: 'manage/x', authLevel: 'admin', handler: async () => { ran += 1; return { status: 200 }; } };
    const [guarded] = guardRoutes([route], { operatorAuthenticator: () => operatorAuthenticatorFromEnv({ KARS_MODE: 'azure' }), logger: silentLogger });
    const req = { url: 'https://app.example/api/manage/x', headers: new Headers() } as never;
    const res = await guarded!.handler(req, {} as never);
    expect(res).toMatchObject({ status: 500, jsonBody: { code: 'CONFIG_INVALID' } });
    expect(ran).toBe(0);
  });
});

describe('azureHostAuthLevel', () => {
  it('registers every operator route anonymous with the Functions host (no host key) when the app checks Entra, the others as declared', () => {
    for (const r of routes) expect(azureHostAuthLevel(r, true), r.name).toBe(isOperatorRoute(r) ? 'anonymous' : r.authLevel);
    // 4 rollout (start, status, abort, approve) + 3 hook management + 4 trust routes + 4 console data routes.
    expect(routes.filter(isOperatorRoute).map((r) => azureHostAuthLevel(r, true))).toEqual(Array.from({ length: 15 }, () => 'anonymous'));
    expect(routes.filter(isOperatorRoute).map((r) => azureHostAuthLevel(r, true))).toEqual(Array.from({ length: 15 }, () => 'anonymous'));
  });

  it('keeps the host key on operator routes when no Entra settings exist (KARS_MODE=local): a setting never opens them', () => {
    for (const r of routes) expect(azureHostAuthLevel(r, false), r.name).toBe(r.authLevel);
    expect(routes.filter(isOperatorRoute).every((r) => azureHostAuthLevel(r, false) !== 'anonymous')).toBe(true);
    expect(entraOperatorAuthConfigured({ KARS_MODE: 'local' })).toBe(false);
    expect(entraOperatorAuthConfigured({ KARS_MODE: 'azure' })).toBe(true); // unparseable → guard answers CONFIG_INVALID
    expect(entraOperatorAuthConfigured({ KARS_MODE: 'local', KARS_OPERATOR_TENANT_ID: '11111111-1111-1111-1111-111111111111', KARS_OPERATOR_AUDIENCE: 'api://kars' })).toBe(true);
  });
});
