// The mesh path from the AKS routers to the Function app (T4; docs/deploy.md): a private endpoint for the app in the
// VNet's private-endpoint subnet, and the private DNS zone, linked to the VNet, that resolves the app's default host
// name to it. The app's access restrictions (this Front Door profile plus operator ranges, default Deny) govern public
// traffic only: traffic through a private endpoint is not subject to them, so routers in the cluster reach
// /api/mesh/* (authenticated there by their projected service-account token) while the public side stays closed. The
// endpoint has a fixed address so the sandbox NetworkPolicy can allow exactly that /32 on 443.
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the Function app (function-app.bicep output id).')
param siteId string

@description('Default host name of the Function app; the zone name is derived from it (no cloud-specific literal).')
param siteDefaultHostName string

@description('VNet the zone is linked to (network.bicep): the AKS nodes sit in it.')
param vnetId string

@description('Subnet of the private endpoints (network.bicep).')
param subnetId string

@description('Fixed private address of the endpoint inside that subnet (allowed by the sandbox NetworkPolicy as a /32).')
param privateIpAddress string

var hostParts = split(siteDefaultHostName, '.')
// privatelink.azurewebsites.net in the public cloud; the sovereign clouds' app domains follow from the host name.
var zoneName = 'privatelink.${hostParts[length(hostParts) - 2]}.${last(hostParts)}'

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: zoneName
  location: 'global'
  tags: tags
}

resource zoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: '${namePrefix}-vnet'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: '${namePrefix}-pe-functions'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    ipConfigurations: [
      {
        name: 'sites'
        properties: {
          groupId: 'sites'
          memberName: 'sites'
          privateIPAddress: privateIpAddress
        }
      }
    ]
    privateLinkServiceConnections: [
      {
        name: '${namePrefix}-pe-functions'
        properties: {
          privateLinkServiceId: siteId
          groupIds: [
            'sites'
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
        name: 'sites'
        properties: {
          privateDnsZoneId: zone.id
        }
      }
    ]
  }
}

output privateIpAddress string = privateIpAddress
