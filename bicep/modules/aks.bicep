// AKS for the agent sandboxes (T1-E, T2, T3): Entra-only API access, OIDC issuer + workload identity so each router gets
// short-lived Entra tokens from its projected service-account token (no secret, no IMDS), network policy enforcement
// for infra/k8s/sandbox/network-policy.yaml, and a dedicated tainted sandbox pool (docs/hardening.md).
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

@description('Log Analytics workspace for Container insights.')
param workspaceId string

resource cluster 'Microsoft.ContainerService/managedClusters@2025-07-01' = {
  name: '${namePrefix}-aks'
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: 'Standard'
  }
  identity: {
    type: 'SystemAssigned'
  }
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
        // Only critical add-ons here; sandboxes never share a node with system pods.
        nodeTaints: [
          'CriticalAddonsOnly=true:NoSchedule'
        ]
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
output clusterPrincipalId string = cluster.identity.principalId
