// One sandbox, one identity (T1-E): the sandbox's own events queue sbx-<sandboxId> (core/sandbox/sandbox-events-entity.ts),
// a user-assigned identity federated with that sandbox's kars-router service account only, and an Azure Service Bus
// Data Receiver role scoped to that one queue. The edge (the Function app) gets Data Sender on the same queue and
// nothing else. A router that is taken over can receive its own sandbox's events and no other's: Service Bus itself
// refuses it (UnauthorizedAccess), whatever its code does. Deploy one per sandbox; deleting the deployment's resources
// removes the queue, the role assignments and the identity with the sandbox (docs/deploy.md).
@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('The sandbox id (DNS-1123 label); its namespace is kars-<sandboxId>.')
@minLength(1)
@maxLength(58)
param sandboxId string

@description('The sandbox namespace whose kars-router service account the identity trusts (kars-<sandboxId>).')
param sandboxNamespace string

@description('The Service Bus namespace (service-bus.bicep) the queue is created in.')
param serviceBusNamespaceName string

@description('The AKS cluster (aks.bicep output clusterName) whose OIDC issuer signs the service-account tokens.')
param clusterName string

@description('Principal ids granted Azure Service Bus Data Sender on this queue (the Function app, the edge).')
param senderPrincipalIds array

@description('Peek-lock duration of an event (ISO 8601, at most PT5M).')
param lockDuration string = 'PT1M'

@description('Duplicate detection window (ISO 8601): a re-sent delivery with the same message id inside it is dropped.')
param duplicateDetectionWindow string = 'PT10M'

@description('How long an undelivered event waits for its router (ISO 8601).')
param messageTimeToLive string = 'P3D'

// Must equal ROUTER_SERVICE_ACCOUNT in core/sandbox/router-subject.ts and infra/k8s/sandbox/service-account.yaml.
var routerServiceAccountName = 'kars-router'
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource cluster 'Microsoft.ContainerService/managedClusters@2025-07-01' existing = {
  name: clusterName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

// Session = sandbox id (ordering), as the shared queue had it; the settings are the edge queue's.
resource eventsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'sbx-${sandboxId}'
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

resource sandboxIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'kars-sbx-${sandboxId}'
  location: location
  tags: tags
}

// Only this sandbox's kars-router service account, with the audience the pod projects, can act as this identity.
resource sandboxFederation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: sandboxIdentity
  name: 'kars-router'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${sandboxNamespace}:${routerServiceAccountName}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

// Scoped to this sandbox's queue, never the namespace (tests/bicep: SANDBOX_IDENTITY, SERVICEBUS_NO_NAMESPACE_RECEIVE).
resource receiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventsQueue.id, sandboxIdentity.id, serviceBusDataReceiver)
  scope: eventsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: sandboxIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(eventsQueue.id, principalId, serviceBusDataSender)
  scope: eventsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output queueName string = eventsQueue.name
output clientId string = sandboxIdentity.properties.clientId
output principalId string = sandboxIdentity.properties.principalId
