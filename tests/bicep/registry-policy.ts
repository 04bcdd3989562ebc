// The container registry (residual risk 1): Premium and private (public network access off, no trusted-service
// bypass, a private endpoint in the registry DNS zone, AKS nodes inside that VNet), no admin user, no anonymous pull, no
// token credentials, AcrPull on the registry for the kubelet identity and for nothing else, builds on an in-VNet agent
// pool. Diagnostics are checked with the other resources (deployment-policy.ts DIAGNOSED_TYPES). Called by checkDeployment.
import { literal, prop } from './bicep-model';
import type { BicepFile, ResourceDecl, SyntaxNode } from './bicep-model';
import { resolveModulePath, roleAssignmentsIn, type DeploymentPolicyInput } from './policy-helpers';

export const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
const REGISTRY = 'Microsoft.ContainerRegistry/registries';
const MODULE = 'bicep/modules/container-registry.bicep';

export function checkRegistry(input: DeploymentPolicyInput, deployed: (file: BicepFile, node: SyntaxNode | undefined) => unknown): void {
  const { all, files, mainFile, v, resources, wiring } = input;
  const expectLit = (rule: string, file: BicepFile, r: ResourceDecl, path: string, want: unknown): void => {
    const got = literal(prop(r.body, path, file));
    if (JSON.stringify(got) !== JSON.stringify(want)) v(rule, file, `${r.symbol}: ${path} must be the literal ${JSON.stringify(want)}, found ${prop(r.body, path, file)?.text ?? 'nothing'}`);
  };
  const registries = resources(REGISTRY);
  const clusters = resources('Microsoft.ContainerService/managedClusters');
  if (clusters.length > 0 && registries.length === 0) v('REGISTRY', '(all)', 'the sandbox images need a container registry (Microsoft.ContainerRegistry/registries)');
  if (mainFile && registries.length > 0 && !mainFile.modules.some((m) => resolveModulePath(mainFile, m) === MODULE)) v('REGISTRY', mainFile, `main.bicep does not deploy ${MODULE}`);

  for (const { file, r } of registries) {
    expectLit('REGISTRY_ADMIN', file, r, 'properties.adminUserEnabled', false);
    expectLit('REGISTRY_ANONYMOUS', file, r, 'properties.anonymousPullEnabled', false);
    expectLit('REGISTRY_PRIVATE', file, r, 'sku.name', 'Premium');
    const pna = deployed(file, prop(r.body, 'properties.publicNetworkAccess', file));
    if (pna !== 'Disabled') v('REGISTRY_PRIVATE', file, `${r.symbol}: publicNetworkAccess must be Disabled as deployed, found ${String(typeof pna === 'string' ? pna : 'unresolved')}`);
    expectLit('REGISTRY_PRIVATE', file, r, 'properties.networkRuleBypassOptions', 'None');
    expectLit('REGISTRY_PRIVATE', file, r, 'properties.networkRuleBypassAllowedForTasks', false);

    // A private endpoint for the 'registry' sub-resource of this registry, registered in the registry zone.
    const endpoints = file.modules.filter((m) => resolveModulePath(file, m) === 'bicep/modules/private-endpoint.bicep'
      && prop(m.body, 'params.serviceId', file)?.text === `${r.symbol}.id` && literal(prop(m.body, 'params.groupId', file)) === 'registry');
    if (endpoints.length === 0) v('REGISTRY_PRIVATE', file, `${r.symbol}: no private endpoint (groupId 'registry') for the registry`);
    for (const [param, pattern] of [['privateEndpointsSubnetId', /^network\.outputs\.privateEndpointsSubnetId$/], ['privateDnsZoneId', /^network\.outputs\.registryZoneId$/]] as const) {
      wiring('REGISTRY_PRIVATE', relModule(file), param, pattern);
    }

    // Builds run inside the VNet: the shared ACR Tasks hosts cannot reach a registry without public access.
    const pools = file.resources.filter((x) => !x.existing && x.type === `${REGISTRY}/agentPools`);
    if (pools.length === 0) v('REGISTRY_BUILD', file, `${r.symbol}: no ACR Tasks agent pool; az acr build could not push to a private registry`);
    for (const pool of pools) {
      if (!prop(pool.body, 'properties.virtualNetworkSubnetResourceId', file)) v('REGISTRY_BUILD', file, `${pool.symbol}: the agent pool must sit in the VNet (virtualNetworkSubnetResourceId)`);
    }
    wiring('REGISTRY_BUILD', relModule(file), 'buildSubnetId', /^network\.outputs\.buildSubnetId$/);

    // Pull rights: AcrPull for the kubelet identity, scoped to the registry; no other role, no token credentials.
    const onRegistry = all.flatMap((f) => roleAssignmentsIn(f).filter((x) => f === file && prop(x.r.body, 'scope', f)?.text === r.symbol));
    const pulls = onRegistry.filter((x) => x.roleId === ACR_PULL);
    if (pulls.length === 0) v('REGISTRY_PULL', file, `${r.symbol}: no AcrPull assignment scoped to the registry (the kubelet could not pull)`);
    for (const x of onRegistry) {
      if (x.roleId !== ACR_PULL) v('REGISTRY_PULL', file, `${x.r.symbol}: only AcrPull may be granted on the registry, found ${x.roleId ?? 'an unknown role'}`);
      const principal = prop(x.r.body, 'properties.principalId', file);
      if (principal?.type !== 'identifier' || !file.params.has(principal.text)) v('REGISTRY_PULL', file, `${x.r.symbol}: principalId must be the kubelet identity parameter`);
      else wiring('REGISTRY_PULL', relModule(file), principal.text, /^aks!?\.outputs\.kubeletPrincipalId$/);
    }
    for (const f of all) {
      for (const x of roleAssignmentsIn(f)) {
        if (x.roleId === ACR_PULL && !pulls.some((p) => p.r === x.r)) v('REGISTRY_PULL', f, `${x.r.symbol}: AcrPull granted outside the registry's scope`);
      }
      for (const t of f.resources.filter((y) => !y.existing && /^Microsoft\.ContainerRegistry\/registries\/(tokens|scopeMaps|credentialSets)$/.test(y.type))) {
        v('REGISTRY_PULL', f, `${t.symbol}: ${t.type} adds a non-Entra credential to the registry`);
      }
    }
  }
  const aks = files.get('bicep/modules/aks.bicep');
  const kubelet = aks?.outputs.find((o) => o.name === 'kubeletPrincipalId');
  if (registries.length > 0 && !/\.properties\.identityProfile\.kubeletidentity\.objectId$/.test(kubelet?.value.text ?? '')) {
    v('REGISTRY_PULL', aks ?? 'bicep/modules/aks.bicep', 'output kubeletPrincipalId must be the cluster\'s kubelet identity (identityProfile.kubeletidentity.objectId)');
  }

  // The nodes pull over the private endpoint: every pool sits in the VNet whose DNS zones resolve the registry.
  for (const { file, r } of clusters) {
    if (registries.length === 0) continue;
    const pools = prop(r.body, 'properties.agentPoolProfiles', file);
    const objects = pools?.type === 'array' ? pools.namedChildren.filter((p) => p.type === 'object') : [];
    for (const p of objects) {
      const subnet = prop(p, 'vnetSubnetID', file);
      if (!subnet) v('REGISTRY_PRIVATE', file, `pool ${String(literal(prop(p, 'name')))}: no vnetSubnetID; its nodes could not reach the private registry`);
      else if (subnet.type === 'identifier' && file.params.has(subnet.text)) wiring('REGISTRY_PRIVATE', relModule(file), subnet.text, /^network\.outputs\.aksNodesSubnetId$/);
    }
  }
  const net = files.get('bicep/modules/network.bicep');
  if (registries.length > 0 && !/privatelink\$\{environment\(\)\.suffixes\.acrLoginServer\}/.test(net?.source ?? '')) {
    v('REGISTRY_PRIVATE', 'bicep/modules/network.bicep', 'network.bicep must declare the registry private DNS zone (privatelink${environment().suffixes.acrLoginServer})');
  }
}

function relModule(file: BicepFile): string {
  return file.path.replace(/^bicep\//, '');
}
