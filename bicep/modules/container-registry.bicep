// The registry the sandbox images come from (residual risk 1): Premium for private endpoints and dedicated build agents.
// No admin user, no anonymous pull, no token or scope-map credentials: the AKS kubelet identity pulls with AcrPull on this
// registry alone, and the image is built by ACR Tasks on an agent pool inside the VNet (`az acr build --agent-pool`,
// bicep/deploy.sh), so public network access stays off. Every login and repository event lands in the workspace.
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Unique suffix for globally named resources.')
param suffix string

@description('Tags applied to every resource.')
param tags object

@description('Object id of the AKS kubelet identity: the only principal granted AcrPull.')
param kubeletPrincipalId string

@description('Subnet of the private endpoints (network.bicep).')
param privateEndpointsSubnetId string

@description('Private DNS zone privatelink.azurecr.io (network.bicep).')
param privateDnsZoneId string

@description('Subnet of the ACR Tasks agent pool (network.bicep): builds run inside the VNet and push over the private endpoint.')
param buildSubnetId string

@description('Log Analytics workspace for login and repository events.')
param workspaceId string

@description('Untagged manifests are deleted after this many days.')
@minValue(1)
@maxValue(365)
param untaggedRetentionDays int = 30

var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  // 5..50 alphanumerics, globally unique: the login server is <name>.azurecr.io.
  name: take(replace('${namePrefix}acr${suffix}', '-', ''), 50)
  location: location
  tags: tags
  sku: {
    name: 'Premium'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    // Reached through its private endpoint only: the AKS nodes and the build agent pool sit in the VNet.
    publicNetworkAccess: 'Disabled'
    networkRuleBypassOptions: 'None'
    // The shared ACR Tasks hosts get no way around the network rules either: builds use the in-VNet pool below.
    networkRuleBypassAllowedForTasks: false
    networkRuleSet: {
      defaultAction: 'Deny'
    }
    dataEndpointEnabled: false
    zoneRedundancy: 'Disabled'
    policies: {
      // Images cannot be exported to another registry (needs public network access off, which it is).
      exportPolicy: {
        status: 'disabled'
      }
      retentionPolicy: {
        status: 'enabled'
        days: untaggedRetentionDays
      }
      // ARM-audience tokens cannot be exchanged for registry tokens: only ACR-audience Entra tokens are accepted.
      azureADAuthenticationAsArmPolicy: {
        status: 'disabled'
      }
    }
  }
}

// ACR Tasks runs here instead of on the shared multi-tenant build hosts, which cannot reach a private registry.
resource buildPool 'Microsoft.ContainerRegistry/registries/agentPools@2019-06-01-preview' = {
  parent: registry
  name: 'kars-build'
  location: location
  tags: tags
  properties: {
    count: 1
    tier: 'S1'
    os: 'Linux'
    virtualNetworkSubnetResourceId: buildSubnetId
  }
}

// The kubelet pulls the sandbox images; nothing else holds a role on the registry through this template.
resource kubeletPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, kubeletPrincipalId, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: kubeletPrincipalId
    principalType: 'ServicePrincipal'
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: 'kars-pe-registry'
  params: {
    location: location
    name: '${namePrefix}-pe-registry'
    tags: tags
    subnetId: privateEndpointsSubnetId
    serviceId: registry.id
    groupId: 'registry'
    privateDnsZoneId: privateDnsZoneId
  }
}

// Who pulled or pushed what, when (logins and repository events).
resource auditLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-registry'
  scope: registry
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'ContainerRegistryLoginEvents'
        enabled: true
      }
      {
        category: 'ContainerRegistryRepositoryEvents'
        enabled: true
      }
    ]
  }
}

output registryName string = registry.name
output registryId string = registry.id
output loginServer string = registry.properties.loginServer
output buildAgentPoolName string = buildPool.name
