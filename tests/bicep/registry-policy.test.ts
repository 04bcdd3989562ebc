// The container registry's promises (registry-policy.ts) hold on the committed sources and each fails when its fix is
// removed from a mutated copy: admin user and anonymous pull off, private (no public access, no bypass, endpoint in the
// registry zone, nodes in the VNet), builds in the VNet, AcrPull for the kubelet identity only, logs to the workspace.
import { describe, expect, it } from 'vitest';
import { checkBicepSources } from './bicep-policy';
import { mutateSources, policyContext, readBicepSources, type SourceEdit } from './bicep-sources';

const sources = readBicepSources();
const ctx = policyContext();
const rulesOf = (edits: readonly SourceEdit[]): string[] => [...new Set(checkBicepSources(mutateSources(sources, edits), ctx).map((x) => x.rule))];
const ACR = 'modules/container-registry.bicep';

const MUTATIONS: ReadonlyArray<{ name: string; rule: string; edits: SourceEdit[] }> = [
  { name: 'admin user on', rule: 'REGISTRY_ADMIN', edits: [{ file: ACR, from: 'adminUserEnabled: false', to: 'adminUserEnabled: true' }] },
  { name: 'admin user from a parameter', rule: 'REGISTRY_ADMIN', edits: [{ file: ACR, from: 'adminUserEnabled: false', to: 'adminUserEnabled: untaggedRetentionDays == 30' }] },
  { name: 'anonymous pull on', rule: 'REGISTRY_ANONYMOUS', edits: [{ file: ACR, from: 'anonymousPullEnabled: false', to: 'anonymousPullEnabled: true' }] },
  { name: 'anonymous pull left to the default', rule: 'REGISTRY_ANONYMOUS', edits: [{ file: ACR, from: '    anonymousPullEnabled: false\n', to: '' }] },
  { name: 'public network access on', rule: 'REGISTRY_PRIVATE', edits: [{ file: ACR, from: "publicNetworkAccess: 'Disabled'", to: "publicNetworkAccess: 'Enabled'" }] },
  { name: 'trusted services bypass', rule: 'REGISTRY_PRIVATE', edits: [{ file: ACR, from: "networkRuleBypassOptions: 'None'", to: "networkRuleBypassOptions: 'AzureServices'" }] },
  { name: 'shared ACR Tasks hosts bypass the network rules', rule: 'REGISTRY_PRIVATE', edits: [{ file: ACR, from: 'networkRuleBypassAllowedForTasks: false', to: 'networkRuleBypassAllowedForTasks: true' }] },
  { name: 'Standard tier (no private endpoints)', rule: 'REGISTRY_PRIVATE', edits: [{ file: ACR, from: "name: 'Premium'", to: "name: 'Standard'" }] },
  { name: 'no private endpoint', rule: 'REGISTRY_PRIVATE', edits: [{ file: ACR, from: "groupId: 'registry'", to: "groupId: 'registry_data_westeurope'" }] },
  { name: 'endpoint in another DNS zone', rule: 'REGISTRY_PRIVATE', edits: [{ file: 'main.bicep', from: 'privateDnsZoneId: network.outputs.registryZoneId', to: 'privateDnsZoneId: network.outputs.blobZoneId' }] },
  { name: 'registry zone not declared', rule: 'REGISTRY_PRIVATE', edits: [{ file: 'modules/network.bicep', from: "registry: 'privatelink${environment().suffixes.acrLoginServer}'", to: "registry: 'privatelink.azurecr.io'" }] },
  { name: 'a node pool outside the VNet', rule: 'REGISTRY_PRIVATE', edits: [{ file: 'modules/aks.bicep', from: "        type: 'VirtualMachineScaleSets'\n        vnetSubnetID: nodeSubnetId\n", to: "        type: 'VirtualMachineScaleSets'\n" }] },
  { name: 'nodes in the endpoint subnet', rule: 'REGISTRY_PRIVATE', edits: [{ file: 'main.bicep', from: 'nodeSubnetId: network.outputs.aksNodesSubnetId', to: 'nodeSubnetId: network.outputs.privateEndpointsSubnetId' }] },
  { name: 'no build agent pool', rule: 'REGISTRY_BUILD', edits: [{ file: ACR, from: "'Microsoft.ContainerRegistry/registries/agentPools@2019-06-01-preview'", to: "'Microsoft.ContainerRegistry/registries/agentPoolz@2019-06-01-preview'" }] },
  { name: 'agent pool outside the VNet', rule: 'REGISTRY_BUILD', edits: [{ file: ACR, from: '    virtualNetworkSubnetResourceId: buildSubnetId\n', to: '' }] },
  { name: 'builds in the node subnet', rule: 'REGISTRY_BUILD', edits: [{ file: 'main.bicep', from: 'buildSubnetId: network.outputs.buildSubnetId', to: 'buildSubnetId: network.outputs.aksNodesSubnetId' }] },
  { name: 'AcrPush instead of AcrPull', rule: 'REGISTRY_PULL', edits: [{ file: ACR, from: "var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'", to: "var acrPull = '8311e382-0749-4cb8-b61a-304f252e45ec'" }] },
  { name: 'pull granted to the router identity', rule: 'REGISTRY_PULL', edits: [{ file: 'main.bicep', from: 'kubeletPrincipalId: aks!.outputs.kubeletPrincipalId', to: 'kubeletPrincipalId: identities.outputs.functionPrincipalId' }] },
  { name: 'pull granted to the cluster identity', rule: 'REGISTRY_PULL', edits: [{ file: 'main.bicep', from: 'kubeletPrincipalId: aks!.outputs.kubeletPrincipalId', to: 'kubeletPrincipalId: aks!.outputs.clusterPrincipalId' }] },
  { name: 'kubelet output names another identity', rule: 'REGISTRY_PULL', edits: [{ file: 'modules/aks.bicep', from: 'output kubeletPrincipalId string = cluster.properties.identityProfile.kubeletidentity.objectId', to: 'output kubeletPrincipalId string = controlPlaneIdentity.properties.principalId' }] },
  { name: 'pull on the resource group', rule: 'REGISTRY_PULL', edits: [{ file: ACR, from: '  name: guid(registry.id, kubeletPrincipalId, acrPull)\n  scope: registry\n', to: '  name: guid(registry.id, kubeletPrincipalId, acrPull)\n' }] },
  {
    name: 'a second role on the registry', rule: 'REGISTRY_PULL',
    edits: [{ file: ACR, from: 'module endpoint', to: "resource extra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n  name: guid(registry.id, 'extra')\n  scope: registry\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')\n    principalId: kubeletPrincipalId\n    principalType: 'ServicePrincipal'\n  }\n}\n\nmodule endpoint" }],
  },
  {
    name: 'a repository token', rule: 'REGISTRY_PULL',
    edits: [{ file: ACR, from: 'module endpoint', to: "resource pullToken 'Microsoft.ContainerRegistry/registries/tokens@2023-07-01' = {\n  parent: registry\n  name: 'pull'\n  properties: {\n    status: 'enabled'\n  }\n}\n\nmodule endpoint" }],
  },
  { name: 'registry logs nowhere', rule: 'DIAGNOSTICS', edits: [{ file: ACR, from: "  name: 'kars-registry'\n  scope: registry", to: "  name: 'kars-registry'\n  scope: buildPool" }] },
  { name: 'registry not deployed', rule: 'REGISTRY', edits: [{ file: 'main.bicep', from: "module registry 'modules/container-registry.bicep'", to: "module registry 'modules/container-registry-x.bicep'" }] },
];

describe('registry policy on the committed sources', () => {
  it('has no violations', () => {
    expect(checkBicepSources(sources, ctx)).toEqual([]);
  });
});

describe('each registry promise fails when its fix is removed', () => {
  it.each(MUTATIONS)('$name → $rule', ({ rule, edits }) => {
    expect(rulesOf(edits)).toContain(rule);
  });
});
