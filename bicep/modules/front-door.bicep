// Front Door Premium + WAF in Prevention mode: the only public way to the webhook edge /api/hooks/* (T1-S, T1-D, T1-T).
// TLS ends here (1.2 minimum on every domain), managed rule sets block known attack payloads, a per-client rate limit
// sheds floods before they cost a Function invocation, and a method rule refuses anything but POST on the hook routes.
// The origin side is in front-door-origin.bicep (it needs the Function app host name, and the app needs this
// profile's id).
@description('Resource name prefix.')
param namePrefix string

@description('Unique suffix for globally named resources.')
param suffix string

@description('Tags applied to every resource.')
param tags object

@description('Requests per minute one client IP may send to /api/hooks/* before the WAF blocks it: a tenth of the edge\'s global budget (500 rps = 30,000/min), so no single client can spend it.')
@minValue(10)
param rateLimitPerMinute int = 3000

@description('Log Analytics workspace for WAF and access logs.')
param workspaceId string

@description('Optional custom host name for the webhook URL (e.g. hooks.example.com). Empty: only the azurefd.net endpoint. Needs a CNAME to the endpoint and the _dnsauth TXT record Front Door issues for the managed certificate.')
param hooksCustomDomain string = ''

resource profile 'Microsoft.Cdn/profiles@2024-02-01' = {
  name: '${namePrefix}-afd-${suffix}'
  location: 'global'
  tags: tags
  sku: {
    name: 'Premium_AzureFrontDoor'
  }
  properties: {
    originResponseTimeoutSeconds: 60
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-02-01' = {
  parent: profile
  name: '${namePrefix}-hooks-${suffix}'
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

// A custom domain gets an explicit TLS floor (T1-S): a TLS 1.0/1.1 ClientHello is refused before any request is read.
// The azurefd.net default domain has no such setting: Front Door itself refuses TLS below 1.2 there.
resource customDomain 'Microsoft.Cdn/profiles/customDomains@2024-02-01' = if (!empty(hooksCustomDomain)) {
  parent: profile
  name: replace(hooksCustomDomain, '.', '-')
  properties: {
    hostName: hooksCustomDomain
    tlsSettings: {
      certificateType: 'ManagedCertificate'
      minimumTlsVersion: 'TLS12'
    }
  }
}

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2024-02-01' = {
  name: '${replace(namePrefix, '-', '')}waf${suffix}'
  location: 'global'
  tags: tags
  sku: {
    name: 'Premium_AzureFrontDoor'
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: 'Prevention'
      requestBodyCheck: 'Enabled'
      customBlockResponseStatusCode: 403
    }
    customRules: {
      rules: [
        {
          name: 'HooksRateLimit'
          enabledState: 'Enabled'
          priority: 10
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: rateLimitPerMinute
          // Counted per client socket address: one client, one budget.
          groupBy: [
            {
              variableName: 'SocketAddr'
            }
          ]
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Contains'
              negateCondition: false
              matchValue: [
                '/api/hooks/'
              ]
              transforms: [
                'Lowercase'
              ]
            }
          ]
          action: 'Block'
        }
        {
          name: 'HooksPostOnly'
          enabledState: 'Enabled'
          priority: 20
          ruleType: 'MatchRule'
          matchConditions: [
            {
              matchVariable: 'RequestMethod'
              operator: 'Equal'
              negateCondition: true
              matchValue: [
                'POST'
              ]
            }
          ]
          action: 'Block'
        }
      ]
    }
    managedRules: {
      managedRuleSets: [
        {
          ruleSetType: 'Microsoft_DefaultRuleSet'
          ruleSetVersion: '2.1'
          ruleSetAction: 'Block'
        }
        {
          ruleSetType: 'Microsoft_BotManagerRuleSet'
          ruleSetVersion: '1.1'
        }
      ]
    }
  }
}

resource securityPolicy 'Microsoft.Cdn/profiles/securityPolicies@2024-02-01' = {
  parent: profile
  name: 'kars-waf'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: waf.id
      }
      // Every domain a route serves is inspected: a domain left out here would reach the app without the WAF.
      associations: [
        {
          domains: concat([
            {
              id: endpoint.id
            }
          ], empty(hooksCustomDomain) ? [] : [
            {
              id: customDomain.id
            }
          ])
          patternsToMatch: [
            '/*'
          ]
        }
      ]
    }
  }
}

resource accessLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-afd'
  scope: profile
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FrontDoorAccessLog'
        enabled: true
      }
      {
        category: 'FrontDoorWebApplicationFirewallLog'
        enabled: true
      }
    ]
  }
}

output profileName string = profile.name
output profileId string = profile.id
// Not a secret: Front Door sets X-Azure-FDID itself, so another profile cannot present this value.
output frontDoorId string = profile.properties.frontDoorId
output endpointName string = endpoint.name
output endpointHostName string = endpoint.properties.hostName
output customDomainId string = !empty(hooksCustomDomain) ? customDomain.id : ''
output wafPolicyId string = waf.id
