// kars serverless deployment: Function app (Flex Consumption) behind Front Door + WAF, Cosmos DB, Service Bus, Key
// Vault, Storage, App Insights, and the AKS cluster for the agent sandboxes. Identity-only access everywhere: no
// account key, SAS or connection string with a credential is created, output or stored in a setting. The data plane
// is private (VNet integration, private endpoints, public network access off), operator routes sit behind Entra ID,
// and every resource logs to one workspace with alerts and a budget on top.
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

@description('Cosmos DB public network access. Disabled: reached through its private endpoint only (kars audit verify runs from the VNet).')
@allowed([
  'Enabled'
  'Disabled'
])
param cosmosPublicNetworkAccess string = 'Disabled'

@description('Cosmos DB serverless capacity.')
param cosmosServerless bool = true

@description('Service Bus tier: Premium, the tier with private endpoints.')
@allowed([
  'Premium'
])
param serviceBusSku string = 'Premium'

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

@description('CIDR ranges allowed to the SCM (deployment) endpoint. Empty: none from outside the VNet (deny by default).')
param deployerIpRanges array = []

@description('Fixed address of the Function app\'s private endpoint in the private-endpoints subnet: the AKS routers reach /api/mesh/* there (the public side admits Front Door and operatorIpRanges only). Allow it as a /32 on 443 in the sandbox NetworkPolicy.')
param functionsPrivateEndpointIp string = '10.40.1.250'

@description('Maximum Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('WAF rate limit: requests per minute per client IP to /api/hooks/*. Default: a tenth of the global edge rate (500/s = 30,000/min), so one client cannot spend the whole budget.')
@minValue(10)
param wafRateLimitPerMinute int = 3000

@description('Client id of the operator API app registration (Entra ID, docs/deploy.md): the audience of operator tokens.')
@minLength(36)
@maxLength(36)
param operatorApiClientId string

@description('App role value operators hold on the operator API (KARS_OPERATOR_ROLE).')
param operatorAppRole string = 'Kars.Operator'

@description('Object ids of the Entra groups that operate the AKS cluster (AKS RBAC Cluster Admin). Required with deployAks.')
param aksOperatorGroupObjectIds array = []

@description('Email addresses for alerts and budget notifications.')
@minLength(1)
param alertEmails array

@description('Monthly cost budget of the resource group (billing currency).')
@minValue(1)
param monthlyBudget int = 3000

@description('First day of the budget period (yyyy-MM-01). Default: this month.')
param budgetStartDate string = '${utcNow('yyyy-MM')}-01'

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

module network 'modules/network.bicep' = {
  name: 'kars-network'
  params: {
    location: location
    namePrefix: prefix
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
    workspaceId: monitoring.outputs.workspaceId
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
    workspaceId: monitoring.outputs.workspaceId
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
    // T1-E: no router identity receives from the shared edge queue; each sandbox's router reads only its own queue
    // (sandboxIdentities below). The Function app keeps Data Receiver here for its health peek.
    receiverPrincipalIds: [
      identities.outputs.functionPrincipalId
    ]
    workspaceId: monitoring.outputs.workspaceId
  }
}

// AgentMesh (T4): the registry's and relay store's containers and the routers' notification queue.
module meshData 'modules/mesh-data.bicep' = {
  name: 'kars-mesh-data'
  params: {
    cosmosAccountName: cosmos.outputs.accountName
    cosmosDatabaseName: cosmos.outputs.databaseName
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
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

// The checkpoint signing key in a vault of its own, where the app holds read-only access: a compromised app can use
// the key but cannot replace it, and kars audit verify pins the public key (T1-R).
module auditKeyVault 'modules/key-vault.bicep' = {
  name: 'kars-audit-key-vault'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    vaultRole: 'akv'
    auditSigningKeySecretName: auditSigningKeySecretName
    secretReaderPrincipalIds: [
      identities.outputs.functionPrincipalId
    ]
    secretWriterPrincipalIds: []
    workspaceId: monitoring.outputs.workspaceId
  }
}

// Private endpoints of every data service (network.bicep holds the subnet and the DNS zones).
var privateEndpoints = [
  {
    name: 'cosmos'
    serviceId: cosmos.outputs.accountId
    groupId: 'Sql'
    zoneId: network.outputs.cosmosZoneId
  }
  {
    name: 'servicebus'
    serviceId: serviceBus.outputs.namespaceId
    groupId: 'namespace'
    zoneId: network.outputs.serviceBusZoneId
  }
  {
    name: 'keyvault'
    serviceId: keyVault.outputs.vaultId
    groupId: 'vault'
    zoneId: network.outputs.keyVaultZoneId
  }
  {
    name: 'audit-keyvault'
    serviceId: auditKeyVault.outputs.vaultId
    groupId: 'vault'
    zoneId: network.outputs.keyVaultZoneId
  }
  {
    name: 'blob'
    serviceId: storage.outputs.storageAccountId
    groupId: 'blob'
    zoneId: network.outputs.blobZoneId
  }
  {
    name: 'queue'
    serviceId: storage.outputs.storageAccountId
    groupId: 'queue'
    zoneId: network.outputs.queueZoneId
  }
  {
    name: 'table'
    serviceId: storage.outputs.storageAccountId
    groupId: 'table'
    zoneId: network.outputs.tableZoneId
  }
]

module privateEndpoint 'modules/private-endpoint.bicep' = [for pe in privateEndpoints: {
  name: 'kars-pe-${pe.name}'
  params: {
    location: location
    name: '${prefix}-pe-${pe.name}'
    tags: tags
    subnetId: network.outputs.privateEndpointsSubnetId
    serviceId: pe.serviceId
    groupId: pe.groupId
    privateDnsZoneId: pe.zoneId
  }
}]

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
    auditSigningKeySecretName: auditKeyVault.outputs.auditSigningKeySecretName
    auditKeyVaultUrl: auditKeyVault.outputs.vaultUri
    functionsSubnetId: network.outputs.functionsSubnetId
    operatorApiClientId: operatorApiClientId
    operatorAppRole: operatorAppRole
    workspaceId: monitoring.outputs.workspaceId
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
    meshOidcIssuer: deployAks ? aks!.outputs.oidcIssuerUrl : ''
  }
}

// The routers' path to the mesh routes: the app's private endpoint in the VNet (access restrictions govern public traffic
// only), its zone resolving the app's host name inside the VNet.
module functionAppEndpoint 'modules/function-app-endpoint.bicep' = {
  name: 'kars-pe-functions'
  params: {
    location: location
    namePrefix: prefix
    tags: tags
    siteId: functionApp.outputs.id
    siteDefaultHostName: functionApp.outputs.defaultHostName
    vnetId: network.outputs.vnetId
    subnetId: network.outputs.privateEndpointsSubnetId
    privateIpAddress: functionsPrivateEndpointIp
  }
}

module frontDoorOrigin 'modules/front-door-origin.bicep' = {
  name: 'kars-front-door-origin'
  params: {
    profileName: frontDoor.outputs.profileName
    endpointName: frontDoor.outputs.endpointName
    functionHostName: functionApp.outputs.defaultHostName
    functionAppId: functionApp.outputs.id
    functionAppLocation: location
    customDomainId: frontDoor.outputs.customDomainId
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'kars-alerts'
  params: {
    namePrefix: prefix
    tags: tags
    location: location
    frontDoorProfileId: frontDoor.outputs.profileId
    serviceBusNamespaceId: serviceBus.outputs.namespaceId
    edgeQueueName: serviceBus.outputs.edgeQueueName
    appInsightsId: monitoring.outputs.appInsightsId
    alertEmails: alertEmails
    monthlyBudget: monthlyBudget
    budgetStartDate: budgetStartDate
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
    nodeSubnetId: network.outputs.aksNodesSubnetId
    workspaceId: monitoring.outputs.workspaceId
    operatorGroupObjectIds: aksOperatorGroupObjectIds
  }
}

// The sandbox images' registry: private, no admin user or anonymous pull, AcrPull for the kubelet identity only; the
// deploy builds the router image into it with ACR Tasks on the in-VNet agent pool (docs/deploy.md).
module registry 'modules/container-registry.bicep' = if (deployAks) {
  name: 'kars-registry'
  params: {
    location: location
    namePrefix: prefix
    suffix: suffix
    tags: tags
    kubeletPrincipalId: aks!.outputs.kubeletPrincipalId
    privateEndpointsSubnetId: network.outputs.privateEndpointsSubnetId
    privateDnsZoneId: network.outputs.registryZoneId
    buildSubnetId: network.outputs.buildSubnetId
    workspaceId: monitoring.outputs.workspaceId
  }
}

// T1-E: one sandbox, one identity. Per sandbox namespace: its events queue sbx-<id>, a user-assigned identity federated
// with that namespace's kars-router service account, Data Receiver on that queue only, Data Sender there for the edge.
module sandboxIdentities 'modules/sandbox-identity.bicep' = [for ns in sandboxNamespaces: if (deployAks) {
  name: 'kars-sbx-${ns}'
  params: {
    location: location
    tags: tags
    sandboxId: substring(ns, 5)
    sandboxNamespace: ns
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    clusterName: aks!.outputs.clusterName
    senderPrincipalIds: [
      identities.outputs.functionPrincipalId
    ]
    lockDuration: edgeQueueLockDuration
    duplicateDetectionWindow: edgeQueueDuplicateDetectionWindow
  }
}]

module openAiRole 'modules/openai-role.bicep' = if (!empty(openAiResourceId)) {
  name: 'kars-openai-role'
  scope: resourceGroup(openAiIdParts[2], openAiIdParts[4])
  params: {
    accountName: last(openAiIdParts)
    routerPrincipalId: identities.outputs.routerPrincipalId
  }
}

output functionAppName string = functionApp.outputs.name
@description('Approve Front Door\'s pending Private Link connection on this resource (docs/deploy.md).')
output functionAppId string = functionApp.outputs.id
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
@description('The audit vault: create the signing key secret here (docs/deploy.md); the app can only read it.')
output auditKeyVaultName string = auditKeyVault.outputs.vaultName
output auditSigningKeySecretName string = auditKeyVault.outputs.auditSigningKeySecretName
output functionPrincipalId string = identities.outputs.functionPrincipalId
output functionClientId string = identities.outputs.functionClientId
output routerPrincipalId string = identities.outputs.routerPrincipalId
@description('Goes into the azure.workload.identity/client-id annotation of infra/k8s/sandbox/service-account.yaml.')
output routerClientId string = identities.outputs.routerClientId
output aksClusterName string = deployAks ? aks!.outputs.clusterName : ''
output aksOidcIssuerUrl string = deployAks ? aks!.outputs.oidcIssuerUrl : ''
@description('Per sandbox namespace: its events queue and the client id of its own router identity (T1-E).')
output sandboxIdentities array = [for (ns, i) in sandboxNamespaces: deployAks ? {
  namespace: ns
  queue: sandboxIdentities[i]!.outputs.queueName
  clientId: sandboxIdentities[i]!.outputs.clientId
} : {}]
@description('The registry the deploy builds the router image into (az acr build --registry).')
output registryName string = deployAks ? registry!.outputs.registryName : ''
@description('Login server of the registry: the sandbox images are <registryLoginServer>/kars/<name>@<digest>.')
output registryLoginServer string = deployAks ? registry!.outputs.loginServer : ''
@description('ACR Tasks agent pool inside the VNet (az acr build --agent-pool).')
output registryBuildAgentPool string = deployAks ? registry!.outputs.buildAgentPoolName : ''
