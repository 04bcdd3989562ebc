// kars serverless deployment: Function app (Flex Consumption) behind Front Door + WAF, Cosmos DB, Service Bus, Key
// Vault, Storage, App Insights, and the AKS cluster for the agent sandboxes. Identity-only access everywhere: no
// account key, SAS or connection string with a credential is created, output or stored in a setting.
// Deploy: bicep/deploy.sh or `npx kars deploy` (docs/deploy.md).
targetScope = 'resourceGroup'

@description('Azure region for regional resources (Front Door and its WAF policy are global).')
param location string = resourceGroup().location

@description('Short prefix for resource names (lowercase letters, digits, hyphens).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'kars'

@description('Tags applied to every resource.')
param tags object = {
  app: 'kars'
}

@description('Cosmos DB database name (KARS_COSMOS_DATABASE).')
param cosmosDatabaseName string = 'kars'

@description('Cosmos DB public network access. Disabled needs private endpoints, which this template does not create.')
@allowed([
  'Enabled'
  'Disabled'
])
param cosmosPublicNetworkAccess string = 'Enabled'

@description('Cosmos DB serverless capacity.')
param cosmosServerless bool = true

@description('Service Bus tier.')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Peek-lock duration of an edge delivery (ISO 8601, at most PT5M).')
param edgeQueueLockDuration string = 'PT1M'

@description('Duplicate detection window of the edge queue (ISO 8601).')
param edgeQueueDuplicateDetectionWindow string = 'PT10M'

@description('Key Vault secret name of the Ed25519 audit checkpoint signing key. The value is never part of a deployment.')
@minLength(1)
@maxLength(127)
param auditSigningKeySecretName string = 'kars-audit-signing-key'

@description('Receipt chain name prefix (KARS_AUDIT_CHAIN_PREFIX).')
param auditChainPrefix string = 'audit'

@description('Number of receipt chains (KARS_AUDIT_CHAIN_COUNT). 16: one busy tenant can then sustain the edge\'s 500 rps of receipts at an in-region store round trip (docs/audit.md).')
@minValue(1)
@maxValue(256)
param auditChainCount int = 16

@description('A signed checkpoint every N receipts of a chain (KARS_AUDIT_CHECKPOINT_EVERY).')
@minValue(1)
param auditCheckpointEvery int = 64

@description('Per-dependency deadline of /api/health in ms (KARS_HEALTH_TIMEOUT_MS).')
@minValue(100)
param healthTimeoutMs int = 2000

@description('Global edge admission rate, requests/s across all instances (seed: 500).')
@minValue(1)
param limitGlobalRps int = 500

@description('Global edge burst (seed: 1000).')
@minValue(1)
param limitGlobalBurst int = 1000

@description('Per-agent rate, requests/s (seed: 50).')
@minValue(1)
param limitAgentRps int = 50

@description('Per-agent burst (seed: 100).')
@minValue(1)
param limitAgentBurst int = 100

@description('Tokens an instance takes from a per-agent bucket per store write (1 = exact; docs/limits.md).')
@minValue(1)
param limitAgentLease int = 2

@description('Let the Function app write new secret versions (kars hook create / rotate). False: secrets are provisioned out of band.')
param appCanWriteSecrets bool = true

@description('Principal ids (operators, CI) granted read-only Cosmos access for kars audit verify.')
param auditReaderPrincipalIds array = []

@description('CIDR ranges allowed to call the Function app directly (admin routes). Empty: Front Door only.')
param operatorIpRanges array = []

@description('CIDR ranges allowed to the SCM (deployment) endpoint. Empty: any network, Entra-authenticated only.')
param deployerIpRanges array = []

@description('Maximum Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('WAF rate limit: requests per minute per client IP to /api/hooks/* (default: the global edge rate, 500/s).')
@minValue(10)
param wafRateLimitPerMinute int = 30000

@description('Optional custom host name for the webhook URL (hooks.example.com); TLS 1.2 minimum, managed certificate. Empty: the azurefd.net endpoint only.')
param hooksCustomDomain string = ''

@description('Deploy the AKS cluster for the agent sandboxes.')
param deployAks bool = true

@description('Kubernetes version. Empty: the AKS default.')
param aksKubernetesVersion string = ''

@description('Private AKS API server.')
param aksPrivateCluster bool = true

@description('Authorized CIDR ranges of a public AKS API server (ignored when private).')
param aksAuthorizedIpRanges array = []

@description('AKS network policy engine.')
@allowed([
  'calico'
  'cilium'
])
param aksNetworkPolicy string = 'calico'

@description('Sandbox pool OS (docs/hardening.md: Ubuntu 24.04 for Landlock TCP rules).')
@allowed([
  'Ubuntu2404'
  'Ubuntu'
  'AzureLinux'
])
param aksSandboxPoolOsSku string = 'Ubuntu2404'

@description('Kata VM isolation on the sandbox pool (forces AzureLinux).')
param aksSandboxPoolKata bool = false

@description('Sandbox namespaces whose kars-router service account is federated with the router identity.')
param sandboxNamespaces array = [
  'kars-example'
]

@description('Resource id of an Azure OpenAI / AI Foundry account the routers may call. Empty: no model role assignment.')
param openAiResourceId string = ''

var prefix = toLower(namePrefix)
var suffix = uniqueString(resourceGroup().id, prefix)
// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>. A placeholder of the
// same shape when empty, because ARM evaluates a module's scope even when its condition is false.
var openAiIdParts = split(empty(openAiResourceId) ? '${resourceGroup().id}/providers/Microsoft.CognitiveServices/accounts/none' : openAiResourceId, '/')

module monitoring 'modules/monitoring.bicep' = {
  name: 'kars-monitoring'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
  }
}

module identities 'modules/identities.bicep' = {
  name: 'kars-identities'
  params: {
    location: location
    namePrefix: prefix
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'kars-storage'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    functionPrincipalId: identities.outputs.functionPrincipalId
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'kars-cosmos'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    databaseName: cosmosDatabaseName
    publicNetworkAccess: cosmosPublicNetworkAccess
    serverless: cosmosServerless
    dataContributorPrincipalIds: [
      identities.outputs.functionPrincipalId
    ]
    dataReaderPrincipalIds: auditReaderPrincipalIds
  }
}

module serviceBus 'modules/service-bus.bicep' = {
  name: 'kars-service-bus'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    sku: serviceBusSku
    lockDuration: edgeQueueLockDuration
    duplicateDetectionWindow: edgeQueueDuplicateDetectionWindow
    senderPrincipalIds: [
      identities.outputs.functionPrincipalId
    ]
    receiverPrincipalIds: [
      identities.outputs.functionPrincipalId
      identities.outputs.routerPrincipalId
    ]
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'kars-key-vault'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    auditSigningKeySecretName: auditSigningKeySecretName
    secretReaderPrincipalIds: [
      identities.outputs.functionPrincipalId
    ]
    secretWriterPrincipalIds: appCanWriteSecrets ? [
      identities.outputs.functionPrincipalId
    ] : []
    workspaceId: monitoring.outputs.workspaceId
  }
}

module frontDoor 'modules/front-door.bicep' = {
  name: 'kars-front-door'
  params: {
    namePrefix: prefix
    suffix: suffix
    tags: tags
    rateLimitPerMinute: wafRateLimitPerMinute
    workspaceId: monitoring.outputs.workspaceId
    hooksCustomDomain: hooksCustomDomain
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'kars-function-app'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    identityId: identities.outputs.functionIdentityId
    identityClientId: identities.outputs.functionClientId
    storageAccountName: storage.outputs.storageAccountName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsName: monitoring.outputs.appInsightsName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    keyVaultUrl: keyVault.outputs.vaultUri
    auditSigningKeySecretName: keyVault.outputs.auditSigningKeySecretName
    auditChainPrefix: auditChainPrefix
    auditChainCount: auditChainCount
    auditCheckpointEvery: auditCheckpointEvery
    healthTimeoutMs: healthTimeoutMs
    limitGlobalRps: limitGlobalRps
    limitGlobalBurst: limitGlobalBurst
    limitAgentRps: limitAgentRps
    limitAgentBurst: limitAgentBurst
    limitAgentLease: limitAgentLease
    frontDoorId: frontDoor.outputs.frontDoorId
    operatorIpRanges: operatorIpRanges
    deployerIpRanges: deployerIpRanges
    maximumInstanceCount: functionMaximumInstanceCount
  }
}

module frontDoorOrigin 'modules/front-door-origin.bicep' = {
  name: 'kars-front-door-origin'
  params: {
    profileName: frontDoor.outputs.profileName
    endpointName: frontDoor.outputs.endpointName
    functionHostName: functionApp.outputs.defaultHostName
    customDomainId: frontDoor.outputs.customDomainId
  }
}

module appInsightsPublisher 'modules/monitoring-publisher.bicep' = {
  name: 'kars-monitoring-publisher'
  params: {
    appInsightsName: monitoring.outputs.appInsightsName
    principalId: identities.outputs.functionPrincipalId
  }
}

module aks 'modules/aks.bicep' = if (deployAks) {
  name: 'kars-aks'
  params: {
    location: location
    namePrefix: prefix
    tags: tags
    kubernetesVersion: aksKubernetesVersion
    privateCluster: aksPrivateCluster
    authorizedIpRanges: aksAuthorizedIpRanges
    networkPolicy: aksNetworkPolicy
    sandboxPoolOsSku: aksSandboxPoolOsSku
    sandboxPoolKata: aksSandboxPoolKata
    routerIdentityName: identities.outputs.routerIdentityName
    sandboxNamespaces: sandboxNamespaces
    workspaceId: monitoring.outputs.workspaceId
  }
}

module openAiRole 'modules/openai-role.bicep' = if (!empty(openAiResourceId)) {
  name: 'kars-openai-role'
  scope: resourceGroup(openAiIdParts[2], openAiIdParts[4])
  params: {
    accountName: last(openAiIdParts)
    routerPrincipalId: identities.outputs.routerPrincipalId
  }
}

output functionAppName string = functionApp.outputs.name
@description('Direct host name of the Function app; it answers only Front Door and operatorIpRanges.')
output functionAppHostName string = functionApp.outputs.defaultHostName
@description('Public webhook base URL: https://<Front Door endpoint>/api/hooks/{channel}/{hookId}.')
output hooksBaseUrl string = 'https://${empty(hooksCustomDomain) ? frontDoor.outputs.endpointHostName : hooksCustomDomain}/api/hooks'
output frontDoorEndpointHostName string = frontDoor.outputs.endpointHostName
output cosmosEndpoint string = cosmos.outputs.endpoint
output cosmosDatabaseName string = cosmos.outputs.databaseName
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output edgeQueueName string = serviceBus.outputs.edgeQueueName
output keyVaultUrl string = keyVault.outputs.vaultUri
output auditSigningKeySecretName string = keyVault.outputs.auditSigningKeySecretName
output functionPrincipalId string = identities.outputs.functionPrincipalId
output functionClientId string = identities.outputs.functionClientId
output routerPrincipalId string = identities.outputs.routerPrincipalId
@description('Goes into the azure.workload.identity/client-id annotation of infra/k8s/sandbox/service-account.yaml.')
output routerClientId string = identities.outputs.routerClientId
output aksClusterName string = deployAks ? aks!.outputs.clusterName : ''
output aksOidcIssuerUrl string = deployAks ? aks!.outputs.oidcIssuerUrl : ''
