// AgentMesh (T4) data entities, added to the account and namespace the core modules create: the registry's and relay
// store's Cosmos containers (adapters/mesh/mesh-containers.ts) and the session queue the relay store notifies routers
// on (adapters/mesh/bus-mesh-notifier.ts DEFAULT_MESH_QUEUE; session = sandbox id). Data-plane access comes from the
// database-scoped Cosmos role in cosmos.bicep; the queue has its own queue-scoped Service Bus roles here.
@description('Cosmos DB account name (cosmos.bicep output accountName).')
param cosmosAccountName string

@description('The kars database (cosmos.bicep output databaseName).')
param cosmosDatabaseName string

@description('Service Bus namespace name (service-bus.bicep output namespaceName).')
param serviceBusNamespaceName string

@description('Peek-lock duration of a notification (ISO 8601, at most PT5M).')
param lockDuration string = 'PT1M'

@description('Duplicate detection window (ISO 8601): a retried notification for the same frame is dropped.')
param duplicateDetectionWindow string = 'PT10M'

@description('How long a notification waits for its router (ISO 8601); relay frames live 72 h in Cosmos.')
param messageTimeToLive string = 'P3D'

@description('Principal ids granted Azure Service Bus Data Sender on the mesh queue (the Function app).')
param senderPrincipalIds array

@description('Principal ids granted Azure Service Bus Data Receiver on the mesh queue (routers; the Function app for its health peek).')
param receiverPrincipalIds array

// Pending frames and Ed25519-Timestamp replay claims carry expiresAtMs: defaultTtl -1 lets the per-item ttl purge them.
var expiringMeshContainers = [
  'mesh-inbox'
  'mesh-replay'
]
// Registrations, sandbox bindings and prekey bundles live until deregistration.
var permanentMeshContainers = [
  'mesh-agents'
]
// Must equal DEFAULT_MESH_QUEUE in adapters/mesh/bus-mesh-notifier.ts (the app does not set KARS_MESH_QUEUE).
var meshQueueName = 'kars-mesh-inbound'
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' existing = {
  parent: account
  name: cosmosDatabaseName
}

resource expiring 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for name in expiringMeshContainers: {
  parent: database
  name: name
  properties: {
    resource: {
      id: name
      partitionKey: {
        paths: [
          '/pk'
        ]
        kind: 'Hash'
      }
      defaultTtl: -1
    }
  }
}]

resource permanent 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for name in permanentMeshContainers: {
  parent: database
  name: name
  properties: {
    resource: {
      id: name
      partitionKey: {
        paths: [
          '/pk'
        ]
        kind: 'Hash'
      }
    }
  }
}]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource meshQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: meshQueueName
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

// Scoped to the mesh queue, not the namespace.
resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(meshQueue.id, principalId, serviceBusDataSender)
  scope: meshQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource receivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in receiverPrincipalIds: {
  name: guid(meshQueue.id, principalId, serviceBusDataReceiver)
  scope: meshQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output meshQueueName string = meshQueue.name
