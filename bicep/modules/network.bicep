// The private data plane: one VNet with a subnet the Function app integrates with (all its outbound traffic goes
// through it), a subnet for the private endpoints of Cosmos DB, Service Bus, Key Vault, Storage and the container
// registry, the AKS node subnet (so nodes pull images and routers reach Service Bus over those endpoints) and the ACR
// Tasks build subnet, plus the private DNS zones that make the services' public host names resolve to the endpoints
// inside the VNet. Zone names follow the cloud
// (environment()), so the template works in sovereign clouds too.
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Tags applied to every resource.')
param tags object

@description('VNet address space.')
param addressPrefix string = '10.40.0.0/16'

@description('Subnet the Function app integrates with (Flex Consumption: delegated to Microsoft.App/environments).')
param functionsSubnetPrefix string = '10.40.0.0/24'

@description('Subnet for private endpoints.')
param privateEndpointsSubnetPrefix string = '10.40.1.0/24'

@description('Subnet of the ACR Tasks agent pool (image builds inside the VNet).')
param buildSubnetPrefix string = '10.40.2.0/24'

@description('Subnet of the AKS nodes (Azure CNI overlay: pods take addresses from the pod CIDR, not from here).')
param aksNodesSubnetPrefix string = '10.40.16.0/20'

// documents.azure.com / .us / .cn: the Cosmos DB zone has no environment() suffix of its own.
var cloudName = environment().name
var cosmosTld = cloudName == 'AzureUSGovernment' ? 'us' : (cloudName == 'AzureChinaCloud' ? 'cn' : 'com')
var zones = {
  cosmos: 'privatelink.documents.azure.${cosmosTld}'
  serviceBus: 'privatelink.${replace(environment().suffixes.storage, 'core.', 'servicebus.')}'
  keyVault: 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  registry: 'privatelink${environment().suffixes.acrLoginServer}'
}
var zoneKeys = [
  'cosmos'
  'serviceBus'
  'keyVault'
  'blob'
  'queue'
  'table'
  'registry'
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: '${namePrefix}-vnet'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'functions'
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointsSubnetPrefix
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
      {
        name: 'acr-build'
        properties: {
          addressPrefix: buildSubnetPrefix
        }
      }
      {
        name: 'aks-nodes'
        properties: {
          addressPrefix: aksNodesSubnetPrefix
        }
      }
    ]
  }
}

resource privateZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for key in zoneKeys: {
  name: zones[key]
  location: 'global'
  tags: tags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (key, i) in zoneKeys: {
  parent: privateZones[i]
  name: '${namePrefix}-vnet'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

output vnetId string = vnet.id
output functionsSubnetId string = vnet.properties.subnets[0].id
output privateEndpointsSubnetId string = vnet.properties.subnets[1].id
output cosmosZoneId string = privateZones[0].id
output serviceBusZoneId string = privateZones[1].id
output keyVaultZoneId string = privateZones[2].id
output blobZoneId string = privateZones[3].id
output queueZoneId string = privateZones[4].id
output tableZoneId string = privateZones[5].id
output registryZoneId string = privateZones[6].id
output buildSubnetId string = vnet.properties.subnets[2].id
output aksNodesSubnetId string = vnet.properties.subnets[3].id
