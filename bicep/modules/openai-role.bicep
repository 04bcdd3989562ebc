// T3: lets the sandbox routers call Azure OpenAI / AI Foundry with their workload identity (Cognitive Services
// OpenAI User: inference only, no keys, no deployments). Deployed at the scope of the account's resource group.
@description('Name of the existing Azure OpenAI / AI Foundry (Cognitive Services) account.')
param accountName string

@description('Principal id of the router identity.')
param routerPrincipalId string

var cognitiveServicesOpenAiUser = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: accountName
}

resource routerModelAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, routerPrincipalId, cognitiveServicesOpenAiUser)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesOpenAiUser)
    principalId: routerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output roleAssignmentId string = routerModelAccess.id
