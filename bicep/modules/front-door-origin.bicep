// Front Door origin and route for the webhook edge (T1-S): only /api/hooks/* is forwarded, only over HTTPS (a plain
// HTTP request matches no route and is never forwarded), re-encrypted to the origin with its certificate name checked,
// never cached.
@description('Front Door profile name (front-door.bicep).')
param profileName string

@description('Front Door endpoint name (front-door.bicep).')
param endpointName string

@description('Function app default host name (the origin).')
param functionHostName string

@description('Function app resource id: Front Door reaches it over Private Link.')
param functionAppId string

@description('Region of the Function app (the Private Link location).')
param functionAppLocation string

@description('Custom domain resource id (front-door.bicep customDomainId). Empty: the route serves the default domain only.')
param customDomainId string = ''

resource profile 'Microsoft.Cdn/profiles@2024-02-01' existing = {
  name: profileName
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-02-01' existing = {
  parent: profile
  name: endpointName
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: profile
  name: 'kars-functions'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    healthProbeSettings: {
      probePath: '/api/health'
      probeRequestType: 'GET'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 100
    }
    sessionAffinityState: 'Disabled'
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = {
  parent: originGroup
  name: 'kars-function-app'
  properties: {
    hostName: functionHostName
    originHostHeader: functionHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
    // Over Private Link to the app (approve the pending connection on the Function app once; docs/deploy.md).
    sharedPrivateLinkResource: {
      privateLink: {
        id: functionAppId
      }
      groupId: 'sites'
      privateLinkLocation: functionAppLocation
      requestMessage: 'kars Front Door origin'
    }
  }
}

resource hooksRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'kars-hooks'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    customDomains: empty(customDomainId) ? [] : [
      {
        id: customDomainId
      }
    ]
    patternsToMatch: [
      '/api/hooks/*'
    ]
    supportedProtocols: [
      'Https'
    ]
    forwardingProtocol: 'HttpsOnly'
    httpsRedirect: 'Disabled'
    linkToDefaultDomain: 'Enabled'
    enabledState: 'Enabled'
  }
  dependsOn: [
    origin
  ]
}

output routeId string = hooksRoute.id
