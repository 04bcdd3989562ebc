// Monitoring Metrics Publisher on Application Insights: with DisableLocalAuth the Function app's telemetry is
// accepted only with an Entra token of this identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
@description('Application Insights component name.')
param appInsightsName string

@description('Principal id allowed to publish telemetry.')
param principalId string

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
