// The kars Function app on Flex Consumption (Linux, Node 20) with a user-assigned managed identity. No account key or
// connection string with a credential in its settings: Cosmos, Service Bus, Key Vault and host storage are reached
// with the identity, through the VNet integration and their private endpoints. Inbound traffic comes from this
// deployment's Front Door over Private Link (T1 edge), plus optional operator ranges; operator routes additionally sit
// behind App Service Authentication (Entra ID), and the app checks the operator app role itself (T1-E).
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Unique suffix for globally named resources.')
param suffix string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the Function app user-assigned identity.')
param identityId string

@description('Client id of the Function app user-assigned identity.')
param identityClientId string

@description('Host storage account name (identity-based AzureWebJobsStorage).')
param storageAccountName string

@description('Blob container URL of the deployment package.')
param deploymentContainerUrl string

@description('Application Insights component name (telemetry; ingestion is Entra-only).')
param appInsightsName string

@description('Cosmos DB account endpoint.')
param cosmosEndpoint string

@description('Cosmos DB database name.')
param cosmosDatabaseName string

@description('Fully qualified Service Bus namespace (<name>.servicebus.windows.net).')
param serviceBusNamespace string

@description('Key Vault URI.')
param keyVaultUrl string

@description('Key Vault secret name of the audit checkpoint signing key.')
param auditSigningKeySecretName string

@description('URI of the audit vault holding the signing key (the app can read it there, never write it).')
param auditKeyVaultUrl string

@description('Subnet the app integrates with (network.bicep); all outbound traffic goes through the VNet.')
param functionsSubnetId string

@description('Client id of the operator API app registration (Entra ID): the audience of operator access tokens.')
param operatorApiClientId string

@description('App role value an operator must hold.')
param operatorAppRole string

@description('Log Analytics workspace for the Function app logs.')
param workspaceId string

@description('Receipt chain name prefix.')
param auditChainPrefix string

@description('Number of receipt chains.')
param auditChainCount int

@description('A signed checkpoint every N receipts of a chain.')
param auditCheckpointEvery int

@description('Per-dependency deadline of /api/health in milliseconds.')
param healthTimeoutMs int

@description('Global admission rate at the edge, requests/s across all instances (KARS_LIMIT_GLOBAL_RPS).')
param limitGlobalRps int

@description('Global bucket size (KARS_LIMIT_GLOBAL_BURST).')
param limitGlobalBurst int

@description('Per-agent rate, requests/s (KARS_LIMIT_AGENT_RPS).')
param limitAgentRps int

@description('Per-agent bucket size (KARS_LIMIT_AGENT_BURST).')
param limitAgentBurst int

@description('Tokens an instance takes from a per-agent bucket per store write (KARS_LIMIT_AGENT_LEASE).')
param limitAgentLease int

@description('Front Door profile id (frontDoorId), checked in the X-Azure-FDID header of every request.')
param frontDoorId string

@description('CIDR ranges allowed to call the app directly (operators: /api/manage, /api/health). Empty: Front Door only.')
param operatorIpRanges array = []

@description('CIDR ranges allowed to reach the SCM (deployment) endpoint. Empty: none (deploy from the VNet).')
param deployerIpRanges array = []

@description('The AKS cluster\'s OIDC issuer (oidcIssuerProfile.issuerURL, ending in /): the mesh and router-receipt routes accept router tokens it signed (T4-S, T2-R). Empty without AKS: those routes then answer their configuration error.')
param meshOidcIssuer string = ''

@description('Maximum Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// Must equal host.json extensions.durableTask.hubName: the Durable extension reads host.json, the health probe this.
var durableTaskHub = 'KarsRollouts'

// X-Azure-FDID pins the service tag rule to this deployment's profile: AzureFrontDoor.Backend alone admits every
// Front Door customer's traffic.
var frontDoorRule = {
  name: 'front-door-only'
  description: 'This deployment\'s Front Door profile'
  action: 'Allow'
  priority: 100
  tag: 'ServiceTag'
  ipAddress: 'AzureFrontDoor.Backend'
  headers: {
    'x-azure-fdid': [
      frontDoorId
    ]
  }
}
var operatorRules = [for (cidr, i) in operatorIpRanges: {
  name: 'operator-${i}'
  action: 'Allow'
  priority: 200 + i
  ipAddress: cidr
}]
var deployerRules = [for (cidr, i) in deployerIpRanges: {
  name: 'deployer-${i}'
  action: 'Allow'
  priority: 200 + i
  ipAddress: cidr
}]

// Read here rather than passed as an output: deployment outputs are logged, and connection strings stay out of them.
resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${namePrefix}-plan-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: '${namePrefix}-func-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: functionsSubnetId
    siteConfig: {
      vnetRouteAllEnabled: true
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      ipSecurityRestrictionsDefaultAction: 'Deny'
      ipSecurityRestrictions: concat([
        frontDoorRule
      ], operatorRules)
      scmIpSecurityRestrictionsUseMain: false
      // The deployment endpoint answers deployer ranges only; without any, nobody from outside the VNet.
      scmIpSecurityRestrictionsDefaultAction: 'Deny'
      scmIpSecurityRestrictions: deployerRules
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '20'
      }
    }
  }
}

// Publishing with FTP or SCM basic credentials is off: deployments authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service Authentication in front of the operator routes (T1-E): a request without a valid Entra token for the
// operator API never reaches the app. The webhook edge and the health probe stay anonymous (their own controls apply).
// Entra does not check app roles here; the app does (functions/http/guard-routes.ts). The operator console's page
// (/api/console/*, anonymous to the app so a browser can load it) stays behind it too: not in excludedPaths.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/hooks/*'
        '/api/health'
        // AgentMesh routes: routers authenticate with their projected service-account token, checked by the app (T4-S).
        '/api/mesh/*'
        // Router receipts: the router's projected kars-audit token, checked by the app (T2-R, T3-R).
        '/api/audit/router-receipts'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: operatorApiClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            operatorApiClientId
            'api://${operatorApiClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-functions'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

// Exactly the settings functions/config.ts reads in azure mode, plus the host's identity-based storage and telemetry.
// Absent on purpose: KARS_COSMOS_KEY, KARS_SERVICEBUS_CONNECTION, KARS_SECRETS_FILE (local mode only) and a plain
// AzureWebJobsStorage connection string. FUNCTIONS_WORKER_RUNTIME is not an app setting on Flex (functionAppConfig).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    AZURE_CLIENT_ID: identityClientId
    KARS_MODE: 'azure'
    KARS_COSMOS_ENDPOINT: cosmosEndpoint
    KARS_COSMOS_DATABASE: cosmosDatabaseName
    KARS_SERVICEBUS_NAMESPACE: serviceBusNamespace
    // The trustApply Service Bus trigger's identity-based connection (functions/trust/apply-trust-trigger.ts).
    KarsServiceBus__fullyQualifiedNamespace: serviceBusNamespace
    KarsServiceBus__credential: 'managedidentity'
    KarsServiceBus__clientId: identityClientId
    KARS_DURABLE_TASKHUB: durableTaskHub
    KARS_SECRETS_SOURCE: 'keyvault'
    KARS_KEYVAULT_URL: keyVaultUrl
    KARS_AUDIT_SIGNING_KEY_NAME: auditSigningKeySecretName
    KARS_AUDIT_KEYVAULT_URL: auditKeyVaultUrl
    // Operator routes (functions/http/operator-auth-settings.ts): v2 tokens of this tenant for the operator API.
    KARS_OPERATOR_TENANT_ID: subscription().tenantId
    KARS_OPERATOR_AUDIENCE: operatorApiClientId
    KARS_OPERATOR_ROLE: operatorAppRole
    KARS_OPERATOR_AUTHORITY_HOST: environment().authentication.loginEndpoint
    KARS_AUDIT_CHAIN_PREFIX: auditChainPrefix
    KARS_AUDIT_CHAIN_COUNT: string(auditChainCount)
    KARS_AUDIT_CHECKPOINT_EVERY: string(auditCheckpointEvery)
    // The health probe proves the identity path with a Key Vault token; the audience follows the cloud.
    KARS_IDENTITY_HEALTH_SCOPE: 'https://${substring(environment().suffixes.keyvaultDns, 1)}/.default'
    KARS_HEALTH_TIMEOUT_MS: string(healthTimeoutMs)
    KARS_LIMIT_GLOBAL_RPS: string(limitGlobalRps)
    KARS_LIMIT_GLOBAL_BURST: string(limitGlobalBurst)
    KARS_LIMIT_AGENT_RPS: string(limitAgentRps)
    KARS_LIMIT_AGENT_BURST: string(limitAgentBurst)
    // Lease sizes are derived from the largest number of instances sharing the limits: the plan's maximum.
    KARS_LIMIT_MAX_INSTANCES: string(maximumInstanceCount)
    KARS_LIMIT_AGENT_LEASE: string(limitAgentLease)
    // Router tokens (audiences kars-mesh and kars-audit) are checked against the cluster's issuer and its JWKS, which
    // AKS serves at <issuer>openid/v1/jwks.
    KARS_MESH_OIDC_ISSUER: meshOidcIssuer
    KARS_MESH_OIDC_JWKS_URL: empty(meshOidcIssuer) ? '' : '${meshOidcIssuer}openid/v1/jwks'
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
