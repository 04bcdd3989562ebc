// The security properties of bicep/ (identity-only access, TLS, WAF, workload identity, session queue, app settings)
// hold on the committed sources, and each check fails when its property is flipped in a mutated copy.
import { describe, expect, it } from 'vitest';
import { checkBicepSources, isoSeconds } from './bicep-policy';
import type { Violation } from './bicep-policy';
import { appContainerSpecs, LOCAL_ONLY_KARS_SETTINGS, mutateSources, policyContext, readBicepSources } from './bicep-sources';
import type { SourceEdit } from './bicep-sources';
import { SETTING_KEYS } from '../../functions/config';

const sources = readBicepSources();
const ctx = policyContext();

type Edit = SourceEdit;
const mutate = (edits: readonly Edit[]): Map<string, string> => mutateSources(sources, edits);

const rules = (vs: readonly Violation[]): string[] => [...new Set(vs.map((x) => x.rule))];

describe('bicep policy on the committed sources', () => {
  it('finds main.bicep and every module it deploys', () => {
    expect(sources.has('bicep/main.bicep')).toBe(true);
    expect([...sources.keys()].filter((p) => p.startsWith('bicep/modules/')).length).toBeGreaterThanOrEqual(10);
  });

  it('derives its expectations from the app', () => {
    for (const k of LOCAL_ONLY_KARS_SETTINGS) expect(SETTING_KEYS).toContain(k);
    expect(ctx.requiredKarsSettings).toContain('KARS_COSMOS_ENDPOINT');
    expect(ctx.requiredKarsSettings).not.toContain('KARS_COSMOS_KEY');
    expect(ctx.forbiddenSettings).toEqual(expect.arrayContaining(['KARS_LOCAL_MASTER_KEY', 'KARS_COSMOS_KEY', 'AzureWebJobsStorage']));
    const specs = appContainerSpecs();
    expect(specs.find((s) => s.id === 'receipts')).toEqual(expect.objectContaining({ id: 'receipts' }));
    expect(specs.find((s) => s.id === 'receipts')?.defaultTtlSec).toBeUndefined();
    // Every spec the scan finds is one the policy then requires in cosmos.bicep, with its TTL.
    expect(ctx.containers.map((c) => c.id).sort()).toEqual([...new Set(specs.map((s) => s.id))].sort());
  });

  it('has no violations', () => {
    expect(checkBicepSources(sources, ctx)).toEqual([]);
  });

  it('parses ISO durations for the queue checks', () => {
    expect(isoSeconds('PT1M')).toBe(60);
    expect(isoSeconds('P3D')).toBe(259_200);
    expect(isoSeconds('PT')).toBeUndefined();
    expect(isoSeconds('1 minute')).toBeUndefined();
  });
});

// Each case flips one promise in a copy of the sources; the named rule must report it.
const MUTATIONS: ReadonlyArray<{ name: string; rule: string; edits: Edit[] }> = [
  { name: 'Cosmos local auth on', rule: 'COSMOS_LOCAL_AUTH', edits: [{ file: 'modules/cosmos.bicep', from: 'disableLocalAuth: true', to: 'disableLocalAuth: false' }] },
  { name: 'Cosmos local auth from a parameter', rule: 'COSMOS_LOCAL_AUTH', edits: [{ file: 'modules/cosmos.bicep', from: 'disableLocalAuth: true', to: 'disableLocalAuth: serverless' }] },
  { name: 'Service Bus SAS auth on', rule: 'SERVICEBUS_LOCAL_AUTH', edits: [{ file: 'modules/service-bus.bicep', from: 'disableLocalAuth: true', to: 'disableLocalAuth: false' }] },
  { name: 'storage shared keys on', rule: 'STORAGE_SHARED_KEY', edits: [{ file: 'modules/storage.bicep', from: 'allowSharedKeyAccess: false', to: 'allowSharedKeyAccess: true' }] },
  { name: 'Function app over http', rule: 'FUNCTIONS_HTTPS', edits: [{ file: 'modules/function-app.bicep', from: 'httpsOnly: true', to: 'httpsOnly: false' }] },
  { name: 'TLS 1.0 accepted', rule: 'FUNCTIONS_TLS', edits: [{ file: 'modules/function-app.bicep', from: "      minTlsVersion: '1.2'", to: "      minTlsVersion: '1.0'" }] },
  { name: 'FTP basic credentials on', rule: 'FUNCTIONS_FTP', edits: [{ file: 'modules/function-app.bicep', from: "name: 'ftp'\n  properties: {\n    allow: false", to: "name: 'ftp'\n  properties: {\n    allow: true" }] },
  { name: 'FTPS allowed', rule: 'FUNCTIONS_FTP', edits: [{ file: 'modules/function-app.bicep', from: "ftpsState: 'Disabled'", to: "ftpsState: 'AllAllowed'" }] },
  { name: 'access restrictions default Allow', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'modules/function-app.bicep', from: "ipSecurityRestrictionsDefaultAction: 'Deny'", to: "ipSecurityRestrictionsDefaultAction: 'Allow'" }] },
  { name: 'service tag rule dropped', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'modules/function-app.bicep', from: "ipAddress: 'AzureFrontDoor.Backend'", to: "ipAddress: 'AzureCloud'" }] },
  { name: 'X-Azure-FDID check is a literal', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'modules/function-app.bicep', from: "'x-azure-fdid': [\n      frontDoorId\n    ]", to: "'x-azure-fdid': [\n      'anything'\n    ]" }] },
  { name: 'FDID wired to something else', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'main.bicep', from: 'frontDoorId: frontDoor.outputs.frontDoorId', to: 'frontDoorId: frontDoor.outputs.profileName' }] },
  { name: 'an allow-all rule', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'modules/function-app.bicep', from: "  ipAddress: cidr\n}]\nvar deployerRules", to: "  ipAddress: '0.0.0.0/0'\n}]\nvar deployerRules" }] },
  { name: 'Key Vault access policies', rule: 'KEYVAULT_RBAC', edits: [{ file: 'modules/key-vault.bicep', from: 'enableRbacAuthorization: true', to: 'enableRbacAuthorization: false' }] },
  { name: 'Key Vault purge protection off', rule: 'KEYVAULT_PURGE', edits: [{ file: 'modules/key-vault.bicep', from: 'enablePurgeProtection: true', to: 'enablePurgeProtection: false' }] },
  {
    name: 'a secret value in the template', rule: 'KEYVAULT',
    edits: [{ file: 'modules/key-vault.bicep', from: '// Every secret read', to: "resource key 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {\n  parent: vault\n  name: auditSigningKeySecretName\n  properties: {\n    value: 'not-a-real-key'\n  }\n}\n\n// Every secret read" }],
  },
  { name: 'WAF in Detection mode', rule: 'WAF_MODE', edits: [{ file: 'modules/front-door.bicep', from: "mode: 'Prevention'", to: "mode: 'Detection'" }] },
  { name: 'rate-limit rule removed', rule: 'WAF_RATE_LIMIT', edits: [{ file: 'modules/front-door.bicep', from: "ruleType: 'RateLimitRule'", to: "ruleType: 'MatchRule'" }] },
  { name: 'default rule set removed', rule: 'WAF', edits: [{ file: 'modules/front-door.bicep', from: "ruleSetType: 'Microsoft_DefaultRuleSet'", to: "ruleSetType: 'Microsoft_HTTPDDoSRuleSet'" }] },
  { name: 'route exposes everything', rule: 'FRONT_DOOR_ROUTE', edits: [{ file: 'modules/front-door-origin.bicep', from: "'/api/hooks/*'", to: "'/*'" }] },
  { name: 'route accepts http', rule: 'FRONT_DOOR_ROUTE', edits: [{ file: 'modules/front-door-origin.bicep', from: "supportedProtocols: [\n      'Https'\n    ]", to: "supportedProtocols: [\n      'Http'\n      'Https'\n    ]" }] },
  { name: 'route forwards to the origin over http', rule: 'FRONT_DOOR_ROUTE', edits: [{ file: 'modules/front-door-origin.bicep', from: "forwardingProtocol: 'HttpsOnly'", to: "forwardingProtocol: 'MatchRequest'" }] },
  { name: 'route on another endpoint', rule: 'FRONT_DOOR_ROUTE', edits: [{ file: 'main.bicep', from: 'endpointName: frontDoor.outputs.endpointName', to: "endpointName: 'other-endpoint'" }] },
  { name: 'route ignores the custom domain wiring', rule: 'FRONT_DOOR_ROUTE', edits: [{ file: 'main.bicep', from: 'customDomainId: frontDoor.outputs.customDomainId', to: "customDomainId: ''" }] },
  { name: 'custom domain accepts TLS 1.0', rule: 'FRONT_DOOR_TLS', edits: [{ file: 'modules/front-door.bicep', from: "minimumTlsVersion: 'TLS12'", to: "minimumTlsVersion: 'TLS10'" }] },
  { name: 'custom domain TLS floor from a parameter', rule: 'FRONT_DOOR_TLS', edits: [{ file: 'modules/front-door.bicep', from: "minimumTlsVersion: 'TLS12'", to: 'minimumTlsVersion: hooksCustomDomain' }] },
  { name: 'custom domain not wired', rule: 'FRONT_DOOR_TLS', edits: [{ file: 'main.bicep', from: '    hooksCustomDomain: hooksCustomDomain\n', to: "    hooksCustomDomain: ''\n" }] },
  { name: 'custom domain outside the WAF', rule: 'WAF_COVERAGE', edits: [{ file: 'modules/front-door.bicep', from: "], empty(hooksCustomDomain) ? [] : [\n            {\n              id: customDomain.id\n            }\n          ])", to: '], [])' }] },
  { name: 'WAF on one path only', rule: 'WAF_COVERAGE', edits: [{ file: 'modules/front-door.bicep', from: "patternsToMatch: [\n            '/*'", to: "patternsToMatch: [\n            '/api/manage/*'" }] },
  { name: 'origin certificate not checked', rule: 'FRONT_DOOR_ORIGIN', edits: [{ file: 'modules/front-door-origin.bicep', from: 'enforceCertificateNameCheck: true', to: 'enforceCertificateNameCheck: false' }] },
  { name: 'health probe over http', rule: 'FRONT_DOOR_ORIGIN', edits: [{ file: 'modules/front-door-origin.bicep', from: "probeProtocol: 'Https'", to: "probeProtocol: 'Http'" }] },
  { name: 'SCM accepts TLS 1.0', rule: 'FUNCTIONS_TLS', edits: [{ file: 'modules/function-app.bicep', from: "scmMinTlsVersion: '1.2'", to: "scmMinTlsVersion: '1.0'" }] },
  { name: 'X-Azure-FDID header check dropped', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'modules/function-app.bicep', from: "  headers: {\n    'x-azure-fdid': [\n      frontDoorId\n    ]\n  }\n", to: '' }] },
  { name: 'operators open to the Internet by default', rule: 'FUNCTIONS_FRONT_DOOR_ONLY', edits: [{ file: 'main.bicep', from: 'param operatorIpRanges array = []', to: "param operatorIpRanges array = [\n  '0.0.0.0/0'\n]" }] },
  { name: 'queue without sessions', rule: 'SERVICEBUS_QUEUE', edits: [{ file: 'modules/service-bus.bicep', from: 'requiresSession: true', to: 'requiresSession: false' }] },
  { name: 'no duplicate detection', rule: 'SERVICEBUS_QUEUE', edits: [{ file: 'modules/service-bus.bicep', from: 'requiresDuplicateDetection: true', to: 'requiresDuplicateDetection: false' }] },
  { name: 'maxDeliveryCount 100', rule: 'SERVICEBUS_QUEUE', edits: [{ file: 'modules/service-bus.bicep', from: 'maxDeliveryCount: 10', to: 'maxDeliveryCount: 100' }] },
  { name: 'lock longer than 5 min', rule: 'SERVICEBUS_QUEUE', edits: [{ file: 'modules/service-bus.bicep', from: "param lockDuration string = 'PT1M'", to: "param lockDuration string = 'PT30M'" }] },
  { name: 'queue renamed', rule: 'SERVICEBUS_QUEUE', edits: [{ file: 'modules/service-bus.bicep', from: "var edgeQueueName = 'kars-edge-inbound'", to: "var edgeQueueName = 'kars-edge'" }] },
  { name: 'sender role on the namespace', rule: 'SERVICEBUS_RBAC', edits: [{ file: 'modules/service-bus.bicep', from: '  scope: edgeQueue', to: '  scope: namespace' }] },
  // T1-E: one sandbox, one identity; nobody receives namespace-wide.
  { name: 'the shared router identity receives from the edge queue', rule: 'SERVICEBUS_RBAC', edits: [{ file: 'main.bicep', from: '    receiverPrincipalIds: [\n      identities.outputs.functionPrincipalId\n    ]\n    workspaceId', to: '    receiverPrincipalIds: [\n      identities.outputs.functionPrincipalId\n      identities.outputs.routerPrincipalId\n    ]\n    workspaceId' }] },
  { name: 'a sandbox identity receives on the whole namespace', rule: 'SERVICEBUS_NO_NAMESPACE_RECEIVE', edits: [{ file: 'modules/sandbox-identity.bicep', from: "  scope: eventsQueue\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)", to: "  scope: namespace\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)" }] },
  { name: 'a sandbox identity receives on the whole namespace (rule of the module)', rule: 'SANDBOX_IDENTITY', edits: [{ file: 'modules/sandbox-identity.bicep', from: "  scope: eventsQueue\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)", to: "  scope: namespace\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)" }] },
  { name: 'the sandbox queue\'s receive role goes to the Function app', rule: 'SANDBOX_IDENTITY', edits: [{ file: 'modules/sandbox-identity.bicep', from: '    principalId: sandboxIdentity.properties.principalId', to: '    principalId: senderPrincipalIds[0]' }] },
  { name: 'the sandbox identity trusts every service account of its namespace', rule: 'AKS_WORKLOAD_IDENTITY', edits: [{ file: 'modules/sandbox-identity.bicep', from: "subject: 'system:serviceaccount:${sandboxNamespace}:${routerServiceAccountName}'", to: "subject: 'system:serviceaccount:${sandboxNamespace}:default'" }] },
  { name: 'the edge queue\'s receivers on the namespace', rule: 'SERVICEBUS_NO_NAMESPACE_RECEIVE', edits: [{ file: 'modules/service-bus.bicep', from: "  name: guid(edgeQueue.id, principalId, serviceBusDataReceiver)\n  scope: edgeQueue", to: "  name: guid(edgeQueue.id, principalId, serviceBusDataReceiver)\n  scope: namespace" }] },
  { name: 'receipts expire', rule: 'COSMOS_CONTAINERS', edits: [{ file: 'modules/cosmos.bicep', from: "  'receipts'\n  'hooks'", to: "  'hooks'" }, { file: 'modules/cosmos.bicep', from: "  'limits'\n]", to: "  'limits'\n  'receipts'\n]" }] },
  { name: 'replay claims never expire', rule: 'COSMOS_CONTAINERS', edits: [{ file: 'modules/cosmos.bicep', from: "  'edge-replay'\n  'limits'", to: "  'limits'" }, { file: 'modules/cosmos.bicep', from: "  'hooks'\n]", to: "  'hooks'\n  'edge-replay'\n]" }] },
  { name: 'a container missing', rule: 'COSMOS_CONTAINERS', edits: [{ file: 'modules/cosmos.bicep', from: "  'receipts'\n  'hooks'", to: "  'hooks'" }] },
  { name: 'wrong partition key', rule: 'COSMOS_CONTAINERS', edits: [{ file: 'modules/cosmos.bicep', from: "'/pk'", to: "'/id'" }] },
  { name: 'TTL with a default expiry', rule: 'COSMOS_CONTAINERS', edits: [{ file: 'modules/cosmos.bicep', from: 'defaultTtl: -1', to: 'defaultTtl: 3600' }] },
  { name: 'a required KARS setting dropped', rule: 'APP_SETTINGS_KARS', edits: [{ file: 'modules/function-app.bicep', from: '    KARS_AUDIT_CHAIN_PREFIX: auditChainPrefix\n', to: '' }] },
  { name: 'an unknown KARS setting', rule: 'APP_SETTINGS_KARS', edits: [{ file: 'modules/function-app.bicep', from: "    KARS_MODE: 'azure'\n", to: "    KARS_MODE: 'azure'\n    KARS_DEBUG: 'true'\n" }] },
  { name: 'local mode', rule: 'APP_SETTINGS_KARS', edits: [{ file: 'modules/function-app.bicep', from: "KARS_MODE: 'azure'", to: "KARS_MODE: 'local'" }] },
  { name: 'Cosmos key in settings', rule: 'APP_SETTINGS_FORBIDDEN', edits: [{ file: 'modules/function-app.bicep', from: "    KARS_MODE: 'azure'\n", to: "    KARS_MODE: 'azure'\n    KARS_COSMOS_KEY: 'abc'\n" }] },
  { name: 'plain AzureWebJobsStorage', rule: 'APP_SETTINGS_FORBIDDEN', edits: [{ file: 'modules/function-app.bicep', from: "    KARS_MODE: 'azure'\n", to: "    KARS_MODE: 'azure'\n    AzureWebJobsStorage: storageAccountName\n" }] },
  { name: 'a literal API key', rule: 'APP_SETTINGS_LITERAL_SECRET', edits: [{ file: 'modules/function-app.bicep', from: "    KARS_MODE: 'azure'\n", to: "    KARS_MODE: 'azure'\n    PAYMENT_API_KEY: 'sk-live-123'\n" }] },
  {
    name: 'a literal connection string through a param default', rule: 'APP_SETTINGS_LITERAL_SECRET',
    edits: [
      { file: 'modules/function-app.bicep', from: "    KARS_MODE: 'azure'\n", to: "    KARS_MODE: 'azure'\n    EVENTS_CONNECTION: eventsConnection\n" },
      { file: 'modules/function-app.bicep', from: '@description(\'Maximum Flex', to: "param eventsConnection string = 'Endpoint=sb://x/;SharedAccessKey=y'\n\n@description('Maximum Flex" },
    ],
  },
  {
    name: 'a literal connection string passed by main.bicep', rule: 'APP_SETTINGS_LITERAL_SECRET',
    edits: [
      { file: 'modules/function-app.bicep', from: 'APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString', to: 'APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsName' },
      { file: 'main.bicep', from: 'appInsightsName: monitoring.outputs.appInsightsName\n    cosmosEndpoint', to: "appInsightsName: 'InstrumentationKey=00000000-0000-0000-0000-000000000000'\n    cosmosEndpoint" },
    ],
  },
  { name: 'identity-based storage settings dropped', rule: 'APP_SETTINGS_STORAGE', edits: [{ file: 'modules/function-app.bicep', from: '    AzureWebJobsStorage__accountName: storageAccountName\n', to: '' }] },
  { name: 'a hard-coded cloud host', rule: 'HARDCODED_ENV_URL', edits: [{ file: 'modules/function-app.bicep', from: "'https://${substring(environment().suffixes.keyvaultDns, 1)}/.default'", to: "'https://vault.azure.net/.default'" }] },
  { name: 'listKeys()', rule: 'NO_LIST_KEYS', edits: [{ file: 'modules/storage.bicep', from: 'output storageAccountName string', to: 'output blobUsage string = storage.listKeys().keys[0].value\noutput storageAccountName string' }] },
  { name: 'a secret in the outputs', rule: 'OUTPUT_SECRETS', edits: [{ file: 'modules/monitoring.bicep', from: 'output workspaceId string', to: 'output instrumentationKey string = appInsights.properties.InstrumentationKey\noutput workspaceId string' }] },
  { name: 'App Insights local auth', rule: 'MONITORING', edits: [{ file: 'modules/monitoring.bicep', from: 'DisableLocalAuth: true', to: 'DisableLocalAuth: false' }] },
  { name: 'storage role dropped', rule: 'STORAGE', edits: [{ file: 'modules/storage.bicep', from: '  storageQueueDataContributor\n  storageTableDataContributor', to: '  storageTableDataContributor' }] },
  { name: 'AKS without OIDC issuer', rule: 'AKS_OIDC', edits: [{ file: 'modules/aks.bicep', from: 'oidcIssuerProfile: {\n      enabled: true', to: 'oidcIssuerProfile: {\n      enabled: false' }] },
  { name: 'AKS without workload identity', rule: 'AKS_WORKLOAD_IDENTITY', edits: [{ file: 'modules/aks.bicep', from: 'workloadIdentity: {\n        enabled: true', to: 'workloadIdentity: {\n        enabled: false' }] },
  { name: 'AKS local accounts', rule: 'AKS', edits: [{ file: 'modules/aks.bicep', from: 'disableLocalAccounts: true', to: 'disableLocalAccounts: false' }] },
  { name: 'no network policy engine', rule: 'AKS_NETWORK_POLICY', edits: [{ file: 'modules/aks.bicep', from: "param networkPolicy string = 'calico'", to: "param networkPolicy string = 'none'" }] },
  { name: 'federation for another audience', rule: 'AKS_WORKLOAD_IDENTITY', edits: [{ file: 'modules/aks.bicep', from: "'api://AzureADTokenExchange'", to: "'api://other'" }] },
  { name: 'federation for every service account', rule: 'AKS_WORKLOAD_IDENTITY', edits: [{ file: 'modules/aks.bicep', from: ':${routerServiceAccountName}', to: ':default' }] },
  { name: 'federation with another issuer', rule: 'AKS_WORKLOAD_IDENTITY', edits: [{ file: 'modules/aks.bicep', from: 'issuer: cluster.properties.oidcIssuerProfile.issuerURL', to: "issuer: 'https://token.actions.githubusercontent.com'" }] },
  { name: 'sandbox pool without the taint', rule: 'AKS_POOLS', edits: [{ file: 'modules/aks.bicep', from: "'kars.azure.com/sandbox=true:NoSchedule'", to: "'kars.azure.com/sandbox=true:PreferNoSchedule'" }] },
  { name: 'OpenAI role for the wrong identity', rule: 'AKS_OPENAI', edits: [{ file: 'main.bicep', from: 'routerPrincipalId: identities.outputs.routerPrincipalId', to: 'routerPrincipalId: identities.outputs.functionPrincipalId' }] },
  { name: 'OpenAI role with another role', rule: 'AKS_OPENAI', edits: [{ file: 'modules/openai-role.bicep', from: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd', to: 'a97b65f3-24c7-4388-baec-2e87135dc908' }] },
  { name: 'module param typo', rule: 'MODULES', edits: [{ file: 'main.bicep', from: '    sandboxNamespaces: sandboxNamespaces\n', to: '    sandboxNamespace: sandboxNamespaces\n' }] },
  { name: 'module output typo', rule: 'MODULES', edits: [{ file: 'main.bicep', from: 'aks!.outputs.clusterName', to: 'aks!.outputs.clustername' }] },
  { name: 'undefined symbol', rule: 'SYMBOLS', edits: [{ file: 'main.bicep', from: '    namePrefix: prefix\n', to: '    namePrefix: prefx\n' }] },
  { name: 'unknown function', rule: 'SYMBOLS', edits: [{ file: 'main.bicep', from: 'var prefix = toLower(namePrefix)', to: 'var prefix = lower(namePrefix)' }] },
  { name: 'syntax error', rule: 'SYNTAX', edits: [{ file: 'modules/storage.bicep', from: "    publicAccess: 'None'\n      }", to: "    publicAccess: 'None'\n      " }] },
];

describe('each check fails when its property is flipped', () => {
  it.each(MUTATIONS)('$name → $rule', ({ rule, edits }) => {
    const found = checkBicepSources(mutate(edits), ctx);
    expect(rules(found)).toContain(rule);
  });

  it('covers every security rule at least once', () => {
    const covered = new Set(MUTATIONS.map((m) => m.rule));
    for (const rule of ['COSMOS_LOCAL_AUTH', 'SERVICEBUS_LOCAL_AUTH', 'STORAGE_SHARED_KEY', 'FUNCTIONS_HTTPS', 'FUNCTIONS_TLS', 'KEYVAULT_RBAC',
      'KEYVAULT_PURGE', 'WAF_MODE', 'WAF_COVERAGE', 'FRONT_DOOR_ROUTE', 'FRONT_DOOR_TLS', 'FRONT_DOOR_ORIGIN', 'FUNCTIONS_FRONT_DOOR_ONLY', 'SERVICEBUS_QUEUE', 'APP_SETTINGS_KARS', 'APP_SETTINGS_LITERAL_SECRET', 'AKS_OIDC', 'AKS_WORKLOAD_IDENTITY']) {
      expect(covered.has(rule), rule).toBe(true);
    }
  });
});
