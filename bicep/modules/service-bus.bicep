// Service Bus for edge deliveries (T1-E): the session-enabled queue kars-edge-inbound, one session per sandbox, so only
// that sandbox's router receives its events. Local (SAS) auth is off: senders and receivers use Entra roles only.
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Unique suffix for globally named resources.')
param suffix string

@description('Tags applied to every resource.')
param tags object

@description('Premium: the tier with private endpoints (the namespace has no public network access).')
@allowed([
  'Premium'
])
param sku string = 'Premium'

@description('Log Analytics workspace for operational and runtime audit logs.')
param workspaceId string

@description('Peek-lock duration of a delivery (ISO 8601, at most PT5M).')
param lockDuration string = 'PT1M'

@description('Duplicate detection window (ISO 8601). A re-sent delivery with the same message id inside it is dropped.')
param duplicateDetectionWindow string = 'PT10M'

@description('How long an undelivered event waits for its router (ISO 8601); the kars relay inbox TTL is 72 h.')
param messageTimeToLive string = 'P3D'

@description('Principal ids granted Azure Service Bus Data Sender on the queue (the Function app).')
param senderPrincipalIds array

@description('Principal ids granted Azure Service Bus Data Receiver on the queue (routers; the Function app for its health peek).')
param receiverPrincipalIds array

// Must equal DEFAULT_EDGE_QUEUE in adapters/edge/bus-edge-queue.ts (the app does not set KARS_EDGE_QUEUE).
var edgeQueueName = 'kars-edge-inbound'
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: '${namePrefix}-sb-${suffix}'
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
    capacity: sku == 'Premium' ? 1 : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    // Reached through its private endpoint only (network.bicep).
    publicNetworkAccess: 'Disabled'
  }
}

resource edgeQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: edgeQueueName
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: 10
    lockDuration: lockDuration
    defaultMessageTimeToLive: messageTimeToLive
    deadLetteringOnMessageExpiration: true
    enablePartitioning: false
  }
}

// Scoped to the queue, not the namespace: a leaked router token cannot read or write any other entity.
resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(edgeQueue.id, principalId, serviceBusDataSender)
  scope: edgeQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource receivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in receiverPrincipalIds: {
  name: guid(edgeQueue.id, principalId, serviceBusDataReceiver)
  scope: edgeQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-servicebus'
  scope: namespace
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// Must equal TRUST_UPDATES_QUEUE in adapters/trust/trust-containers.ts. Session = subject DID (T4-E: one subject's
// updates apply in order). Only the Function app sends (POST /api/trust/updates) and receives (its trustApply trigger).
var trustQueueName = 'kars-trust-updates'

resource trustQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: trustQueueName
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: 10
    lockDuration: lockDuration
    defaultMessageTimeToLive: messageTimeToLive
    deadLetteringOnMessageExpiration: true
    enablePartitioning: false
  }
}

resource trustSenders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(trustQueue.id, principalId, serviceBusDataSender)
  scope: trustQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

// The senders are the Function app, which also runs the trust applier; routers get nothing on this queue.
resource trustReceivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(trustQueue.id, principalId, serviceBusDataReceiver)
  scope: trustQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output namespaceName string = namespace.name
output namespaceId string = namespace.id
// Fully qualified namespace without hard-coding the cloud's DNS suffix (serviceBusEndpoint is https://<fqdn>:443/).
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output edgeQueueName string = edgeQueue.name
output trustQueueName string = trustQueue.name
