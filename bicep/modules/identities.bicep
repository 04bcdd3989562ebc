// User-assigned identities: one for the Function app, one for the sandbox routers on AKS. Created first so every role
// assignment exists before the app or a pod starts (no window where the host runs without its grants).
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Tags applied to every resource.')
param tags object

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-func-id'
  location: location
  tags: tags
}

// T3: the router holds the only credential of a sandbox; its token comes from the workload-identity federation below
// (bicep/modules/aks.bicep), never from IMDS or a secret.
resource routerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-router-id'
  location: location
  tags: tags
}

output functionIdentityId string = functionIdentity.id
output functionIdentityName string = functionIdentity.name
output functionPrincipalId string = functionIdentity.properties.principalId
output functionClientId string = functionIdentity.properties.clientId
output routerIdentityId string = routerIdentity.id
output routerIdentityName string = routerIdentity.name
output routerPrincipalId string = routerIdentity.properties.principalId
output routerClientId string = routerIdentity.properties.clientId
