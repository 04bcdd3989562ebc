// Cosmos DB (NoSQL) for state and audit receipts. Local (key) auth is off: the app reaches the data plane with its
// managed identity through a SQL role assignment, and account keys cannot be used even if leaked (T1-R, T1-I).
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Unique suffix for globally named resources.')
param suffix string

@description('Tags applied to every resource.')
param tags object

@description('Database name (the app reads it from KARS_COSMOS_DATABASE).')
param databaseName string

@description('Public network access to the account. Disabled (default in main.bicep): reached through its private endpoint only.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Serverless capacity (pay per request). Provisioned throughput when false.')
param serverless bool = true

@description('Principal ids granted Cosmos DB Built-in Data Contributor on the kars database (the Function app).')
param dataContributorPrincipalIds array

@description('Principal ids granted Cosmos DB Built-in Data Reader on the kars database (operators running kars audit verify).')
param dataReaderPrincipalIds array = []

@description('Log Analytics workspace for data-plane and control-plane logs.')
param workspaceId string

// Every container is partitioned on /pk (adapters/cosmos/cosmos-containers.ts DOCUMENT_PARTITION_KEY_PATH).
// Containers whose documents carry expiresAtMs need defaultTtl -1 so the per-item ttl the adapter writes is honoured.
var expiringContainers = [
  'trust-replay'
  'edge-replay'
  'limits'
]
// Receipts (the audit chains), hook registrations and trust projections / issuers never expire in the store: no TTL.
var permanentContainers = [
  'trust'
  'receipts'
  'hooks'
]
// Built-in data-plane roles (Microsoft.DocumentDB sqlRoleDefinitions, not Azure RBAC role definitions).
var cosmosDataReader = '00000000-0000-0000-0000-000000000001'
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: '${namePrefix}-cosmos-${suffix}'
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    // Control-plane changes (databases, containers, throughput) only through ARM, never with data-plane credentials.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        // Point-in-time restore over 30 days: long enough to find and undo an incident's writes (T1-R).
        tier: 'Continuous30Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource expiring 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for name in expiringContainers: {
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

resource permanent 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for name in permanentContainers: {
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

// Scoped to the kars database, not the account: the identity cannot touch other databases.
resource contributors 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [for principalId in dataContributorPrincipalIds: {
  parent: account
  name: guid(account.id, databaseName, principalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: '${account.id}/dbs/${databaseName}'
  }
  dependsOn: [
    database
  ]
}]

resource readers 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [for principalId in dataReaderPrincipalIds: {
  parent: account
  name: guid(account.id, databaseName, principalId, cosmosDataReader)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${cosmosDataReader}'
    principalId: principalId
    scope: '${account.id}/dbs/${databaseName}'
  }
  dependsOn: [
    database
  ]
}]

// The account holds the audit chains: deleting it must take a deliberate second step (remove the lock), and the
// Function app's data-plane role cannot remove a management lock (T1-R).
resource auditLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: 'kars-audit-chains'
  scope: account
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the kars audit receipt chains (docs/audit.md). Remove only as part of a planned decommission.'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-cosmos'
  scope: account
  properties: {
    workspaceId: workspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
      {
        category: 'DataPlaneRequests'
        enabled: true
      }
      {
        category: 'ControlPlaneRequests'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Requests'
        enabled: true
      }
    ]
  }
}

output accountName string = account.name
output accountId string = account.id
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
