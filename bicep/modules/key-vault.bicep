// Key Vault for webhook secrets and the audit checkpoint signing key (T1-S, T1-R). Access is Azure RBAC only (no
// access policies); soft delete and purge protection keep a deleted signing key recoverable. This template never holds
// a secret value: it names the signing key secret; the operator creates it (docs/deploy.md).
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Unique suffix for globally named resources.')
param suffix string

@description('Tags applied to every resource.')
param tags object

@description('Name of the secret that holds the Ed25519 audit checkpoint signing key (KARS_AUDIT_SIGNING_KEY_NAME). A name, never a value.')
@minLength(1)
@maxLength(127)
param auditSigningKeySecretName string

@description('Short role tag in the vault name: kv (hook secrets) or akv (the audit signing key, which the app may only read).')
@allowed([
  'kv'
  'akv'
])
param vaultRole string = 'kv'

@description('Soft-delete retention in days.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Principal ids granted Key Vault Secrets User (read secrets: hook secrets, the audit signing key).')
param secretReaderPrincipalIds array

@description('Principal ids granted the kars secret writer role (set new secret versions: hook create and rotate).')
param secretWriterPrincipalIds array = []

@description('Log Analytics workspace for the vault audit log.')
param workspaceId string

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var resourceGroupScope = resourceGroup().id

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('${namePrefix}-${vaultRole}-${suffix}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    // Reached through its private endpoint only (network.bicep); the Function app calls it over its VNet integration.
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      bypass: 'None'
      defaultAction: 'Deny'
    }
  }
}

// Least privilege for writers: set a new version of a secret; no delete, purge, backup or list of values.
resource secretWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(secretWriterPrincipalIds)) {
  name: guid(resourceGroup().id, 'kars-keyvault-secret-writer', vaultRole)
  properties: {
    roleName: 'kars Key Vault secret writer ${vaultRole} ${uniqueString(resourceGroup().id)}'
    description: 'Set new versions of Key Vault secrets (kars hook create / rotate). No delete, purge or backup.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroupScope
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
        ]
        notDataActions: []
      }
    ]
  }
}

resource readers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in secretReaderPrincipalIds: {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource writers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in secretWriterPrincipalIds: {
  name: guid(vault.id, principalId, 'kars-keyvault-secret-writer')
  scope: vault
  properties: {
    roleDefinitionId: secretWriterRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

// Every secret read and write lands in Log Analytics (who read the signing key, when).
resource auditLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-audit'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

output vaultName string = vault.name
output vaultId string = vault.id
output vaultUri string = vault.properties.vaultUri
output auditSigningKeySecretName string = auditSigningKeySecretName
