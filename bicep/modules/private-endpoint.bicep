// A private endpoint for one sub-resource of a data service, registered in the private DNS zone that makes the
// service's public host name resolve to it inside the VNet.
@description('Azure region.')
param location string

@description('Private endpoint name.')
param name string

@description('Tags applied to every resource.')
param tags object

@description('Subnet of the private endpoints (network.bicep).')
param subnetId string

@description('Resource id of the service (Cosmos account, Service Bus namespace, vault, storage account).')
param serviceId string

@description('Private link sub-resource (Sql, namespace, vault, blob, queue, table).')
param groupId string

@description('Private DNS zone the endpoint registers its address in.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: replace(groupId, '.', '-')
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

output id string = endpoint.id
