// AKS for the agent sandboxes (T1-E, T2, T3): Entra-only API access, OIDC issuer + workload identity so each router gets
// short-lived Entra tokens from its projected service-account token (no secret, no IMDS), network policy enforcement
// for infra/k8s/sandbox/network-policy.yaml, and a dedicated tainted sandbox pool (docs/hardening.md). Operable on day
// two: an operators Entra group holds the AKS RBAC cluster admin role, an untainted platform pool runs Kyverno, the
// node DaemonSets' controllers and `az aks command invoke`, Defender for Containers and the restricted pod security
// initiative watch and enforce, Container insights has its data collection rule, upgrades wait for maintenance
// windows, and the system nodes spread over zones.
@description('Azure region.')
param location string

@description('Resource name prefix.')
param namePrefix string

@description('Tags applied to every resource.')
param tags object

@description('Kubernetes version (x.y or x.y.z). Empty: the AKS default for the region.')
param kubernetesVersion string = ''

@description('Private API server (reach it with az aks command invoke or from a peered network).')
param privateCluster bool = true

@description('CIDR ranges allowed to the public API server when privateCluster is false. Empty: any (Entra auth only).')
param authorizedIpRanges array = []

@description('Network policy engine. Both enforce standard NetworkPolicy, including ipBlock.except (IMDS cut).')
@allowed([
  'calico'
  'cilium'
])
param networkPolicy string = 'calico'

@description('System pool VM size.')
param systemPoolVmSize string = 'Standard_D4ds_v5'

@description('System pool node count.')
@minValue(1)
param systemPoolCount int = 2

@description('Sandbox pool VM size.')
param sandboxPoolVmSize string = 'Standard_D4ds_v5'

@description('Sandbox pool node count.')
@minValue(1)
param sandboxPoolCount int = 2

@description('Sandbox pool OS. Ubuntu2404 (kernel 6.8) gives Landlock TCP rules (ABI 4); AzureLinux 3 runs 6.6 (no TCP rules).')
@allowed([
  'Ubuntu2404'
  'Ubuntu'
  'AzureLinux'
])
param sandboxPoolOsSku string = 'Ubuntu2404'

@description('Pod Sandboxing (Kata VM isolation) on the sandbox pool. Requires AzureLinux; then run kars-jail with --landlock-net best-effort plus the node egress guard.')
param sandboxPoolKata bool = false

@description('Name of the router user-assigned identity (created by identities.bicep) that the federated credentials attach to.')
param routerIdentityName string

@description('Sandbox namespaces (kars-<name>) whose router service account may exchange its token for the router identity.')
param sandboxNamespaces array

@description('Service account of the router in each sandbox namespace (infra/k8s/sandbox/service-account.yaml).')
param routerServiceAccountName string = 'kars-router'

@description('Subnet of every node pool (network.bicep): inside the VNet whose private DNS zones resolve the registry and Service Bus to their private endpoints.')
param nodeSubnetId string

@description('Log Analytics workspace for Container insights, Defender and the control-plane logs.')
param workspaceId string

@description('Object ids of the Entra groups whose members operate the cluster (AKS RBAC Cluster Admin).')
@minLength(1)
param operatorGroupObjectIds array

@description('Platform pool VM size (Kyverno, controllers, command invoke).')
param platformPoolVmSize string = 'Standard_D4ds_v5'

@description('Platform pool node count.')
@minValue(1)
param platformPoolCount int = 2

@description('Availability zones of the system and platform pools (empty in a region without zones).')
param availabilityZones array = [
  '1'
  '2'
  '3'
]

@description('Namespaces exempt from the restricted pod security initiative: the node DaemonSets (seccomp profiles, egress guard) need host access by design (docs/hardening.md).')
param podSecurityExcludedNamespaces array = [
  'kube-system'
  'gatekeeper-system'
  'azure-arc'
  'kars-system'
  'kyverno'
]

// Built-in role and policy ids.
var aksRbacClusterAdmin = 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'
var networkContributor = '4d97b98b-1d4f-4787-a291-c67834d212e7'
// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>
var nodeSubnetParts = split(nodeSubnetId, '/')
// "Kubernetes cluster pod security restricted standards for Linux-based workloads" (initiative).
var restrictedPodSecurityInitiative = '42b8ef37-b724-4e24-bbc8-7a7708edfe00'

// The control plane's identity, created before the cluster so it can hold Network Contributor on the node subnet (a
// cluster in a subnet of its own VNet needs it, and a system-assigned identity would only exist after the cluster).
resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-id-aks'
  location: location
  tags: tags
}

resource nodeSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' existing = {
  name: '${nodeSubnetParts[8]}/${last(nodeSubnetParts)}'
}

resource controlPlaneNetwork 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(nodeSubnetId, controlPlaneIdentity.id, networkContributor)
  scope: nodeSubnet
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkContributor)
    principalId: controlPlaneIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource cluster 'Microsoft.ContainerService/managedClusters@2025-07-01' = {
  name: '${namePrefix}-aks'
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: 'Standard'
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${controlPlaneIdentity.id}': {}
    }
  }
  dependsOn: [
    controlPlaneNetwork
  ]
  properties: {
    kubernetesVersion: empty(kubernetesVersion) ? null : kubernetesVersion
    dnsPrefix: '${namePrefix}-aks'
    enableRBAC: true
    // No static kubeconfig credentials: every API call is an Entra identity checked by Azure RBAC.
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      tenantID: subscription().tenantId
      adminGroupObjectIDs: operatorGroupObjectIds
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
      imageCleaner: {
        enabled: true
        intervalHours: 168
      }
      // Defender for Containers: runtime threat detection on the nodes (the plan itself is enabled per subscription;
      // docs/deploy.md).
      defender: {
        logAnalyticsWorkspaceResourceId: workspaceId
        securityMonitoring: {
          enabled: true
        }
      }
    }
    apiServerAccessProfile: {
      enablePrivateCluster: privateCluster
      authorizedIPRanges: privateCluster ? [] : authorizedIpRanges
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      networkPolicy: networkPolicy
      networkDataplane: networkPolicy == 'cilium' ? 'cilium' : 'azure'
      // Pinned (the overlay defaults) so the sandbox NetworkPolicy provably covers them: it excepts the private
      // ranges from the sandboxes' HTTPS egress, and tests check these lie inside them (T1-E).
      podCidr: '10.244.0.0/16'
      serviceCidr: '10.0.0.0/16'
      dnsServiceIP: '10.0.0.10'
      loadBalancerSku: 'standard'
      outboundType: 'loadBalancer'
    }
    autoUpgradeProfile: {
      upgradeChannel: 'patch'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    addonProfiles: {
      azurepolicy: {
        enabled: true
      }
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: workspaceId
          useAADAuth: 'true'
        }
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        vmSize: systemPoolVmSize
        count: systemPoolCount
        type: 'VirtualMachineScaleSets'
        vnetSubnetID: nodeSubnetId
        availabilityZones: availabilityZones
        // Only critical add-ons here; sandboxes never share a node with system pods.
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
      }
      {
        // Untainted: everything that is neither a critical add-on nor a sandbox (Kyverno, controllers, the pods of
        // az aks command invoke) schedules here, never next to a sandbox.
        name: 'platform'
        mode: 'User'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        vmSize: platformPoolVmSize
        count: platformPoolCount
        type: 'VirtualMachineScaleSets'
        vnetSubnetID: nodeSubnetId
        availabilityZones: availabilityZones
        nodeLabels: {
          'kars.azure.com/pool': 'platform'
        }
        nodeTaints: []
      }
      {
        name: 'sandbox'
        mode: 'User'
        osType: 'Linux'
        osSKU: sandboxPoolKata ? 'AzureLinux' : sandboxPoolOsSku
        workloadRuntime: sandboxPoolKata ? 'KataVmIsolation' : 'OCIContainer'
        vmSize: sandboxPoolVmSize
        count: sandboxPoolCount
        type: 'VirtualMachineScaleSets'
        vnetSubnetID: nodeSubnetId
        // Matched by nodeSelector/tolerations in infra/k8s/sandbox and the node DaemonSets (seccomp, egress guard).
        nodeLabels: {
          'kars.azure.com/pool': 'sandbox'
        }
        nodeTaints: [
          'kars.azure.com/sandbox=true:NoSchedule'
        ]
      }
    ]
  }
}

// Upgrades (Kubernetes patch versions and node images) only inside these windows, never in the middle of a workday.
resource autoUpgradeWindow 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-07-01' = {
  parent: cluster
  name: 'aksManagedAutoUpgradeSchedule'
  properties: {
    maintenanceWindow: {
      schedule: {
        weekly: {
          dayOfWeek: 'Sunday'
          intervalWeeks: 1
        }
      }
      durationHours: 4
      startTime: '02:00'
      utcOffset: '+00:00'
    }
  }
}

resource nodeOsUpgradeWindow 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-07-01' = {
  parent: cluster
  name: 'aksManagedNodeOSUpgradeSchedule'
  properties: {
    maintenanceWindow: {
      schedule: {
        weekly: {
          dayOfWeek: 'Saturday'
          intervalWeeks: 1
        }
      }
      durationHours: 4
      startTime: '02:00'
      utcOffset: '+00:00'
    }
  }
}

// Operators reach the API with their Entra identity (local accounts are off); nothing else holds a cluster role.
resource operatorsClusterAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for groupId in operatorGroupObjectIds: {
  name: guid(cluster.id, groupId, aksRbacClusterAdmin)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', aksRbacClusterAdmin)
    principalId: groupId
    principalType: 'Group'
  }
}]

// Restricted pod security standards, enforced by Azure Policy (Gatekeeper) on every namespace but the platform ones.
resource podSecurity 'Microsoft.Authorization/policyAssignments@2024-04-01' = {
  name: 'kars-pss-restricted'
  scope: cluster
  properties: {
    displayName: 'kars: restricted pod security standards'
    policyDefinitionId: tenantResourceId('Microsoft.Authorization/policySetDefinitions', restrictedPodSecurityInitiative)
    enforcementMode: 'Default'
    parameters: {
      effect: {
        value: 'deny'
      }
      excludedNamespaces: {
        value: podSecurityExcludedNamespaces
      }
    }
  }
}

// Container insights with the Azure Monitor agent needs a data collection rule associated with the cluster.
resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: 'MSCI-${location}-${cluster.name}'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataSources: {
      extensions: [
        {
          name: 'ContainerInsightsExtension'
          extensionName: 'ContainerInsights'
          streams: [
            'Microsoft-ContainerInsights-Group-Default'
          ]
          extensionSettings: {
            dataCollectionSettings: {
              interval: '1m'
              namespaceFilteringMode: 'Off'
              enableContainerLogV2: true
            }
          }
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'workspace'
          workspaceResourceId: workspaceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-ContainerInsights-Group-Default'
        ]
        destinations: [
          'workspace'
        ]
      }
    ]
  }
}

resource containerInsightsAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2023-03-11' = {
  name: 'ContainerInsightsExtension'
  scope: cluster
  properties: {
    dataCollectionRuleId: containerInsightsRule.id
  }
}

// The control plane's audit trail (who did what through the API, incl. admins: kube-audit-admin) and its components.
resource controlPlaneLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kars-aks'
  scope: cluster
  properties: {
    workspaceId: workspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'kube-audit-admin'
        enabled: true
      }
      {
        category: 'kube-apiserver'
        enabled: true
      }
      {
        category: 'kube-controller-manager'
        enabled: true
      }
      {
        category: 'guard'
        enabled: true
      }
    ]
  }
}

resource routerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: routerIdentityName
}

// One federated credential per sandbox namespace: only the kars-router service account of that namespace, with the
// api://AzureADTokenExchange audience the pod projects, can act as the router identity. Serial: concurrent writes of
// federated credentials on one identity are rejected.
@batchSize(1)
resource routerFederation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [for ns in sandboxNamespaces: {
  parent: routerIdentity
  name: 'kars-router-${ns}'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${ns}:${routerServiceAccountName}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}]

output clusterName string = cluster.name
output clusterId string = cluster.id
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL
output kubeletPrincipalId string = cluster.properties.identityProfile.kubeletidentity.objectId
output clusterPrincipalId string = controlPlaneIdentity.properties.principalId
