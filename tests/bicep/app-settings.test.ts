// The Function app settings bicep/ deploys, evaluated with main.bicep's defaults, pass the app's own loadConfig in
// azure mode: no account key, no connection string, Key Vault secrets, and the audit/health settings it declares.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { loadOperatorAuthSettings } from '../../functions/http/operator-auth-settings';
import { loadMeshSettings } from '../../functions/mesh/mesh-settings';
import { loadRouterAuditSettings } from '../../functions/audit/router-audit-settings';
import { entries, moduleInstance, prop, UNKNOWN } from './bicep-model';
import { parseBicepSources } from './bicep-policy';
import { policyContext, readBicepSources } from './bicep-sources';

// Values that exist only after deployment (endpoints, ids) evaluate to UNKNOWN; they are URL-shaped in config.ts.
const DEPLOY_TIME = 'https://deploy-time.invalid/';
const DEPLOY_TIME_TENANT = '00000000-0000-4000-8000-00000000d1a7';

function deployedSettings(): Record<string, string> {
  const files = parseBicepSources(readBicepSources());
  const main = moduleInstance(files, 'bicep/main.bicep');
  const call = main.file.modules.find((m) => m.path === 'modules/function-app.bicep');
  if (!call) throw new Error('main.bicep does not deploy modules/function-app.bicep');
  const args = new Map(entries(prop(call.body, 'params', main.file)!).map(([k, v]) => [k, main.evaluate(v)] as const));
  const app = moduleInstance(files, 'bicep/modules/function-app.bicep', args);
  const settings = app.file.resources.find((r) => r.type === 'Microsoft.Web/sites/config' && app.evaluate(prop(r.body, 'name', app.file)) === 'appsettings')!;
  const obj = prop(settings.body, 'properties', app.file)!;
  return Object.fromEntries(entries(obj).map(([k, v]) => {
    const value = app.evaluate(v);
    return [k, value === UNKNOWN ? DEPLOY_TIME : String(value)];
  }));
}

function mainDefaults(): Map<string, unknown> {
  return moduleInstance(parseBicepSources(readBicepSources()), 'bicep/main.bicep').scope;
}

describe('deployed app settings', () => {
  // Names computed at deploy time (the storage account) stand in as a valid sample name; URLs as DEPLOY_TIME.
  const env = Object.fromEntries(
    Object.entries(deployedSettings()).map(([k, v]) => [k, v !== DEPLOY_TIME ? v : k === 'AzureWebJobsStorage__accountName' ? 'karsdeploytime' : k === 'KARS_OPERATOR_TENANT_ID' ? DEPLOY_TIME_TENANT : v]),
  );
  const defaults = mainDefaults();

  it('resolve the deploy-time constants through main.bicep and the module outputs', () => {
    expect(env['KARS_MODE']).toBe('azure');
    expect(env['KARS_COSMOS_DATABASE']).toBe(defaults.get('cosmosDatabaseName'));
    expect(env['KARS_AUDIT_SIGNING_KEY_NAME']).toBe(defaults.get('auditSigningKeySecretName'));
    expect(env['KARS_AUDIT_CHAIN_COUNT']).toBe(String(defaults.get('auditChainCount')));
    expect(env['KARS_DURABLE_TASKHUB']).toBe(policyContext().durableTaskHub);
  });

  it('are accepted by loadConfig in azure mode with identity-only access', () => {
    const config = loadConfig(env);
    expect(config.mode).toBe('azure');
    expect(config.cosmos.key).toBeUndefined();
    expect(config.serviceBus.connectionString).toBeUndefined();
    expect(config.serviceBus.namespace).toBeDefined();
    expect(config.secrets).toEqual(expect.objectContaining({ source: 'keyvault', vaultUrl: DEPLOY_TIME }));
    expect(config.secrets.file).toBeUndefined();
    expect(config.audit).toEqual({
      signingKeyName: defaults.get('auditSigningKeySecretName'),
      vaultUrl: DEPLOY_TIME,
      chainPrefix: defaults.get('auditChainPrefix'),
      chainCount: defaults.get('auditChainCount'),
      checkpointEvery: defaults.get('auditCheckpointEvery'),
    });
    expect(config.healthTimeoutMs).toBe(defaults.get('healthTimeoutMs'));
    // The host's storage is keyless either way: no connection string is deployed.
    expect(env['AzureWebJobsStorage']).toBeUndefined();
    expect(env['AzureWebJobsStorage__credential']).toBe('managedidentity');
  });

  it('carry the operator-route settings: Azure mode starts the Entra check (T1-E)', () => {
    const operator = loadOperatorAuthSettings(env);
    expect(operator?.policy).toMatchObject({ tenantId: DEPLOY_TIME_TENANT, role: defaults.get('operatorAppRole') });
    expect(env['KARS_OPERATOR_TENANT_ID']).toBe(DEPLOY_TIME_TENANT);
    expect(() => loadOperatorAuthSettings({ ...env, KARS_OPERATOR_AUDIENCE: '' })).toThrow(/KARS_OPERATOR_AUDIENCE/);
  });

  it('carry the AKS cluster\'s OIDC issuer for router tokens: the mesh and router-receipt routes load (T4-S, T2-R)', () => {
    const main = moduleInstance(parseBicepSources(readBicepSources()), 'bicep/main.bicep');
    const call = main.file.modules.find((m) => m.path === 'modules/function-app.bicep')!;
    const issuerArg = entries(prop(call.body, 'params', main.file)!).find(([k]) => k === 'meshOidcIssuer');
    // From the cluster itself (oidcIssuerProfile.issuerURL through aks.bicep's output), only when AKS is deployed.
    expect(issuerArg?.[1].text).toBe("deployAks ? aks!.outputs.oidcIssuerUrl : ''");
    expect(env['KARS_MESH_OIDC_ISSUER']).toBe(DEPLOY_TIME);
    expect(env['KARS_MESH_OIDC_JWKS_URL']).toBe(DEPLOY_TIME);
    const sample = { ...env, KARS_MESH_OIDC_ISSUER: 'https://eastus.oic.prod-aks.azure.com/t/c/', KARS_MESH_OIDC_JWKS_URL: 'https://eastus.oic.prod-aks.azure.com/t/c/openid/v1/jwks' };
    expect(loadMeshSettings(sample)).toMatchObject({ issuer: sample.KARS_MESH_OIDC_ISSUER, jwksUrl: sample.KARS_MESH_OIDC_JWKS_URL });
    expect(() => loadRouterAuditSettings(sample)).not.toThrow();
  });

  it('would be refused by loadConfig if an account key were added (the guard this deployment relies on)', () => {
    expect(() => loadConfig({ ...env, KARS_COSMOS_KEY: 'k' })).toThrow(/KARS_COSMOS_KEY is for local mode only/);
  });
});
