// Each promise of the operable deployment (deployment-policy.ts) holds on the committed sources and fails when its
// fix is removed from a mutated copy: operator routes behind Entra ID, private data plane, audit key out of the app's
// reach, operable AKS, logs/alerts/lock/budget/restore, WAF per-IP rate.
import { describe, expect, it } from 'vitest';
import { checkBicepSources } from './bicep-policy';
import { mutateSources, policyContext, readBicepSources, type SourceEdit } from './bicep-sources';

const sources = readBicepSources();
const ctx = policyContext();
const rulesOf = (edits: readonly SourceEdit[]): string[] => [...new Set(checkBicepSources(mutateSources(sources, edits), ctx).map((x) => x.rule))];

const MUTATIONS: ReadonlyArray<{ name: string; rule: string; edits: SourceEdit[] }> = [
  // Operator routes behind Entra ID (App Service Authentication).
  { name: 'no App Service Authentication', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "name: 'authsettingsV2'", to: "name: 'authsettings'" }] },
  { name: 'authentication not required', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: 'requireAuthentication: true', to: 'requireAuthentication: false' }] },
  { name: 'anonymous callers allowed', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "unauthenticatedClientAction: 'Return401'", to: "unauthenticatedClientAction: 'AllowAnonymous'" }] },
  { name: 'operator routes excluded', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "        '/api/hooks/*'\n", to: "        '/api/hooks/*'\n        '/api/manage/*'\n" }] },
  { name: 'console page excluded', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "        '/api/hooks/*'\n", to: "        '/api/hooks/*'\n        '/api/console/*'\n" }] },
  { name: 'everything excluded', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "        '/api/hooks/*'\n", to: "        '/api/*'\n" }] },
  { name: 'webhooks behind Entra ID', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "        '/api/hooks/*'\n", to: '' }] },
  { name: 'Entra provider disabled', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: 'azureActiveDirectory: {\n        enabled: true', to: 'azureActiveDirectory: {\n        enabled: false' }] },
  { name: 'foreign issuer trusted', rule: 'OPERATOR_AUTH', edits: [{ file: 'modules/function-app.bicep', from: "openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'", to: "openIdIssuer: '${environment().authentication.loginEndpoint}common/v2.0'" }] },
  { name: 'operator API optional', rule: 'OPERATOR_AUTH', edits: [{ file: 'main.bicep', from: 'param operatorApiClientId string', to: "param operatorApiClientId string = '00000000-0000-0000-0000-000000000000'" }] },
  { name: 'operator settings dropped', rule: 'APP_SETTINGS_KARS', edits: [{ file: 'modules/function-app.bicep', from: '    KARS_OPERATOR_ROLE: operatorAppRole\n', to: '' }] },
  // Private data plane.
  { name: 'Cosmos public by default', rule: 'PRIVATE_NETWORK', edits: [{ file: 'main.bicep', from: "param cosmosPublicNetworkAccess string = 'Disabled'", to: "param cosmosPublicNetworkAccess string = 'Enabled'" }] },
  { name: 'Service Bus public', rule: 'PRIVATE_NETWORK', edits: [{ file: 'modules/service-bus.bicep', from: "publicNetworkAccess: 'Disabled'", to: "publicNetworkAccess: 'Enabled'" }] },
  { name: 'Service Bus Standard (no private endpoints)', rule: 'PRIVATE_NETWORK', edits: [{ file: 'modules/service-bus.bicep', from: "@allowed([\n  'Premium'\n])\nparam sku string = 'Premium'", to: "@allowed([\n  'Standard'\n  'Premium'\n])\nparam sku string = 'Standard'" }, { file: 'main.bicep', from: "@allowed([\n  'Premium'\n])\nparam serviceBusSku string = 'Premium'", to: "@allowed([\n  'Standard'\n  'Premium'\n])\nparam serviceBusSku string = 'Standard'" }] },
  { name: 'Key Vault public', rule: 'PRIVATE_NETWORK', edits: [{ file: 'modules/key-vault.bicep', from: "publicNetworkAccess: 'Disabled'", to: "publicNetworkAccess: 'Enabled'" }] },
  { name: 'storage firewall allows all', rule: 'PRIVATE_NETWORK', edits: [{ file: 'modules/storage.bicep', from: "defaultAction: 'Deny'", to: "defaultAction: 'Allow'" }] },
  { name: 'no VNet integration', rule: 'PRIVATE_NETWORK', edits: [{ file: 'modules/function-app.bicep', from: '    virtualNetworkSubnetId: functionsSubnetId\n', to: '' }] },
  { name: 'VNet integration on the endpoint subnet', rule: 'PRIVATE_NETWORK', edits: [{ file: 'main.bicep', from: 'functionsSubnetId: network.outputs.functionsSubnetId', to: 'functionsSubnetId: network.outputs.privateEndpointsSubnetId' }] },
  { name: 'queue endpoint missing', rule: 'PRIVATE_ENDPOINTS', edits: [{ file: 'main.bicep', from: "  {\n    name: 'queue'\n    serviceId: storage.outputs.storageAccountId\n    groupId: 'queue'\n    zoneId: network.outputs.queueZoneId\n  }\n", to: '' }] },
  { name: 'audit vault endpoint missing', rule: 'PRIVATE_ENDPOINTS', edits: [{ file: 'main.bicep', from: "serviceId: auditKeyVault.outputs.vaultId", to: 'serviceId: keyVault.outputs.vaultId' }] },
  { name: 'endpoint outside its DNS zone', rule: 'PRIVATE_ENDPOINTS', edits: [{ file: 'modules/private-endpoint.bicep', from: "resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01'", to: "resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroupz@2024-05-01'" }] },
  { name: 'zones not linked to the VNet', rule: 'PRIVATE_ENDPOINTS', edits: [{ file: 'modules/network.bicep', from: "'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01'", to: "'Microsoft.Network/privateDnsZones/virtualNetworkLinkz@2024-06-01'" }] },
  { name: 'Front Door over the public Internet', rule: 'FRONT_DOOR_PRIVATE_LINK', edits: [{ file: 'modules/front-door-origin.bicep', from: "      groupId: 'sites'\n", to: '' }] },
  { name: 'Private Link to another app', rule: 'FRONT_DOOR_PRIVATE_LINK', edits: [{ file: 'main.bicep', from: 'functionAppId: functionApp.outputs.id', to: 'functionAppId: storage.outputs.storageAccountId' }] },
  { name: 'SCM open when no deployer range', rule: 'FUNCTIONS_SCM', edits: [{ file: 'modules/function-app.bicep', from: "scmIpSecurityRestrictionsDefaultAction: 'Deny'", to: "scmIpSecurityRestrictionsDefaultAction: empty(deployerIpRanges) ? 'Allow' : 'Deny'" }] },
  // Audit signing key out of the app's reach.
  { name: 'app may write the audit vault', rule: 'AUDIT_KEY', edits: [{ file: 'main.bicep', from: "    vaultRole: 'akv'\n    auditSigningKeySecretName: auditSigningKeySecretName\n    secretReaderPrincipalIds: [\n      identities.outputs.functionPrincipalId\n    ]\n    secretWriterPrincipalIds: []", to: "    vaultRole: 'akv'\n    auditSigningKeySecretName: auditSigningKeySecretName\n    secretReaderPrincipalIds: [\n      identities.outputs.functionPrincipalId\n    ]\n    secretWriterPrincipalIds: [\n      identities.outputs.functionPrincipalId\n    ]" }] },
  { name: 'signing key in the hook-secret vault', rule: 'AUDIT_KEY', edits: [{ file: 'main.bicep', from: 'auditKeyVaultUrl: auditKeyVault.outputs.vaultUri', to: 'auditKeyVaultUrl: keyVault.outputs.vaultUri' }] },
  // Operable AKS.
  { name: 'no operator group', rule: 'AKS_OPERATORS', edits: [{ file: 'modules/aks.bicep', from: "var aksRbacClusterAdmin = 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'", to: "var aksRbacClusterAdmin = '7f6c6a51-bcf8-42ba-9220-52d62157d7db'" }] },
  { name: 'operator group not wired', rule: 'AKS_OPERATORS', edits: [{ file: 'main.bicep', from: 'operatorGroupObjectIds: aksOperatorGroupObjectIds', to: 'operatorGroupObjectIds: []' }] },
  { name: 'platform pool tainted', rule: 'AKS_POOLS', edits: [{ file: 'modules/aks.bicep', from: '        nodeTaints: []\n', to: "        nodeTaints: [\n          'kars.azure.com/platform=true:NoSchedule'\n        ]\n" }] },
  { name: 'system pool in one zone', rule: 'AKS_ZONES', edits: [{ file: 'modules/aks.bicep', from: "param availabilityZones array = [\n  '1'\n  '2'\n  '3'\n]", to: 'param availabilityZones array = []' }] },
  { name: 'Defender off', rule: 'AKS_DEFENDER', edits: [{ file: 'modules/aks.bicep', from: 'securityMonitoring: {\n          enabled: true', to: 'securityMonitoring: {\n          enabled: false' }] },
  { name: 'baseline instead of restricted', rule: 'AKS_POD_SECURITY', edits: [{ file: 'modules/aks.bicep', from: "var restrictedPodSecurityInitiative = '42b8ef37-b724-4e24-bbc8-7a7708edfe00'", to: "var restrictedPodSecurityInitiative = 'a8640138-9b0a-4a28-b8cb-1666c838647d'" }] },
  { name: 'pod security audit only', rule: 'AKS_POD_SECURITY', edits: [{ file: 'modules/aks.bicep', from: "        value: 'deny'", to: "        value: 'audit'" }] },
  { name: 'sandboxes exempt from pod security', rule: 'AKS_POD_SECURITY', edits: [{ file: 'modules/aks.bicep', from: "  'kars-system'\n  'kyverno'\n]", to: "  'kars-system'\n  'kyverno'\n  'kars-example'\n]" }] },
  { name: 'no Container insights rule association', rule: 'AKS_INSIGHTS', edits: [{ file: 'modules/aks.bicep', from: 'dataCollectionRuleId: containerInsightsRule.id', to: 'dataCollectionRuleId: workspaceId' }] },
  { name: 'no node OS maintenance window', rule: 'AKS_MAINTENANCE', edits: [{ file: 'modules/aks.bicep', from: "name: 'aksManagedNodeOSUpgradeSchedule'", to: "name: 'default'" }] },
  // Watch and keep.
  { name: 'no kube-audit-admin', rule: 'DIAGNOSTICS', edits: [{ file: 'modules/aks.bicep', from: "category: 'kube-audit-admin'", to: "category: 'kube-audit'" }] },
  { name: 'Function app logs nowhere', rule: 'DIAGNOSTICS', edits: [{ file: 'modules/function-app.bicep', from: "  name: 'kars-functions'\n  scope: site", to: "  name: 'kars-functions'\n  scope: plan" }] },
  { name: 'Service Bus logs nowhere', rule: 'DIAGNOSTICS', edits: [{ file: 'modules/service-bus.bicep', from: "  name: 'kars-servicebus'\n  scope: namespace", to: "  name: 'kars-servicebus'\n  scope: edgeQueue" }] },
  { name: 'queue service logs nowhere', rule: 'DIAGNOSTICS', edits: [{ file: 'modules/storage.bicep', from: "  name: 'kars-queue'\n  scope: queueService", to: "  name: 'kars-queue'\n  scope: tableService" }] },
  { name: 'Cosmos logs nowhere', rule: 'DIAGNOSTICS', edits: [{ file: 'modules/cosmos.bicep', from: "  name: 'kars-cosmos'\n  scope: account", to: "  name: 'kars-cosmos'\n  scope: database" }] },
  { name: 'no 5xx alert', rule: 'ALERTS', edits: [{ file: 'modules/alerts.bicep', from: "metricName: 'Percentage5XX'", to: "metricName: 'Percentage4XX'" }] },
  { name: 'no origin health alert', rule: 'ALERTS', edits: [{ file: 'modules/alerts.bicep', from: "metricName: 'OriginHealthPercentage'", to: "metricName: 'TotalLatency'" }] },
  { name: 'no dead-letter alert', rule: 'ALERTS', edits: [{ file: 'modules/alerts.bicep', from: "metricName: 'DeadletteredMessages'", to: "metricName: 'ActiveMessages'" }] },
  { name: 'no 429 alert', rule: 'ALERTS', edits: [{ file: 'modules/alerts.bicep', from: "                '429'", to: "                '499'" }] },
  { name: 'no audit verify alert', rule: 'ALERTS', edits: [{ file: 'modules/alerts.bicep', from: 'let runs = customEvents | where name == "kars.audit.verify"', to: 'let runs = customEvents | where name == "other"' }] },
  { name: 'alerts notify nobody', rule: 'ALERTS', edits: [{ file: 'modules/alerts.bicep', from: "  name: '${namePrefix}-dead-letters'", to: "  name: '${namePrefix}-dead-letters-x'" }, { file: 'modules/alerts.bicep', from: "          timeAggregation: 'Maximum'\n        }\n      ]\n    }\n    actions: actions\n", to: "          timeAggregation: 'Maximum'\n        }\n      ]\n    }\n" }] },
  { name: 'alerts on another profile', rule: 'ALERTS', edits: [{ file: 'main.bicep', from: 'frontDoorProfileId: frontDoor.outputs.profileId', to: 'frontDoorProfileId: frontDoor.outputs.wafPolicyId' }] },
  { name: 'no delete lock on the audit account', rule: 'COSMOS_LOCK', edits: [{ file: 'modules/cosmos.bicep', from: "level: 'CanNotDelete'", to: "level: 'ReadOnly'" }] },
  { name: '7-day restore window', rule: 'COSMOS_BACKUP', edits: [{ file: 'modules/cosmos.bicep', from: "tier: 'Continuous30Days'", to: "tier: 'Continuous7Days'" }] },
  { name: 'no budget', rule: 'BUDGET', edits: [{ file: 'modules/alerts.bicep', from: "'Microsoft.Consumption/budgets@2023-11-01'", to: "'Microsoft.Consumption/budgetz@2023-11-01'" }] },
  // WAF per-IP rate.
  { name: 'per-IP rate equals the global budget', rule: 'WAF_PER_IP', edits: [{ file: 'main.bicep', from: 'param wafRateLimitPerMinute int = 3000', to: 'param wafRateLimitPerMinute int = 30000' }] },
  { name: 'rate counted for everyone together', rule: 'WAF_PER_IP', edits: [{ file: 'modules/front-door.bicep', from: "variableName: 'SocketAddr'", to: "variableName: 'GeoLocation'" }] },
];

describe('deployment policy on the committed sources', () => {
  it('has no violations', () => {
    expect(checkBicepSources(sources, ctx)).toEqual([]);
  });

  it('knows the operator and anonymous routes from functions/routes.ts', () => {
    expect(ctx.operatorRoutes).toEqual(expect.arrayContaining(['manage/hooks', 'rollouts', 'console/{asset?}', 'console/data/edge']));
    expect(ctx.anonymousRoutes).toEqual(expect.arrayContaining(['hooks/{channel}/{hookId}', 'health']));
  });
});

describe('each deployment promise fails when its fix is removed', () => {
  it.each(MUTATIONS)('$name → $rule', ({ rule, edits }) => {
    expect(rulesOf(edits)).toContain(rule);
  });
});
