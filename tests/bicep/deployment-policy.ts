// The deployment an operator can run and defend: operator routes behind Entra ID, a private data plane, the audit
// signing key out of the app's reach, an operable AKS cluster, logs/alerts/lock/budget/restore, and a WAF per-IP rate
// far below the edge's global budget. Offline rules over the syntax model, like bicep-policy.ts (which calls this).
import { entries, evaluate, literal, moduleInstance, paramScope, prop, UNKNOWN } from './bicep-model';
import type { BicepFile, ResourceDecl, SyntaxNode } from './bicep-model';
import { collectObjects, describe, resolveModulePath, roleAssignmentsIn, type DeploymentPolicyInput } from './policy-helpers';
import { checkRegistry } from './registry-policy';

export type { DeploymentPolicyInput };

export const DEPLOYMENT_ROLE = {
  aksRbacClusterAdmin: 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b',
} as const;
/** "Kubernetes cluster pod security restricted standards for Linux-based workloads" (built-in initiative). */
export const RESTRICTED_POD_SECURITY_INITIATIVE = '42b8ef37-b724-4e24-bbc8-7a7708edfe00';

/** Private link sub-resources every data service needs, and the main.bicep module whose output names the service. */
const PRIVATE_ENDPOINTS: ReadonlyArray<readonly [groupId: string, service: RegExp]> = [
  ['Sql', /^cosmos\.outputs\.accountId$/],
  ['namespace', /^serviceBus\.outputs\.namespaceId$/],
  ['vault', /^keyVault\.outputs\.vaultId$/],
  ['vault', /^auditKeyVault\.outputs\.vaultId$/],
  ['blob', /^storage\.outputs\.storageAccountId$/],
  ['queue', /^storage\.outputs\.storageAccountId$/],
  ['table', /^storage\.outputs\.storageAccountId$/],
];

/** Resource types that must send their logs to the workspace. */
const DIAGNOSED_TYPES = [
  'Microsoft.Web/sites', 'Microsoft.DocumentDB/databaseAccounts', 'Microsoft.ServiceBus/namespaces', 'Microsoft.KeyVault/vaults',
  'Microsoft.ContainerService/managedClusters', 'Microsoft.Cdn/profiles', 'Microsoft.ContainerRegistry/registries',
];
const STORAGE_SERVICES = ['Microsoft.Storage/storageAccounts/blobServices', 'Microsoft.Storage/storageAccounts/queueServices', 'Microsoft.Storage/storageAccounts/tableServices'];

export function checkDeployment(input: DeploymentPolicyInput): void {
  const { files, all, mainFile, ctx, v, resources, wiring } = input;
  const lit = (file: BicepFile, r: ResourceDecl, path: string): unknown => literal(prop(r.body, path, file));
  const expectLit = (rule: string, file: BicepFile, r: ResourceDecl, path: string, want: unknown): void => {
    const got = lit(file, r, path);
    if (JSON.stringify(got) !== JSON.stringify(want)) v(rule, file, `${r.type} ${r.symbol}: ${path} must be the literal ${JSON.stringify(want)}, found ${describe(prop(r.body, path, file))}`);
  };
  const named = (file: BicepFile, r: ResourceDecl): unknown => evaluate(prop(r.body, 'name', file), paramScope(file), file);
  /** The value a module's expression takes as main.bicep deploys it (main's defaults, its arguments, module outputs). */
  const deployed = (file: BicepFile, node: SyntaxNode | undefined): unknown => {
    if (!node) return UNKNOWN;
    if (!mainFile || file === mainFile) return mainFile ? moduleInstance(files, mainFile.path).evaluate(node) : UNKNOWN;
    const main = moduleInstance(files, mainFile.path);
    const values = mainFile.modules.filter((m) => resolveModulePath(mainFile, m) === file.path).map((m) => {
      const args = prop(m.body, 'params', mainFile);
      const given = new Map(args ? entries(args).map(([k, val]) => [k, main.evaluate(val)] as const) : []);
      return moduleInstance(files, file.path, given).evaluate(node);
    });
    return values.length > 0 && values.every((x) => JSON.stringify(x) === JSON.stringify(values[0])) ? values[0] : UNKNOWN;
  };
  const scopedTo = (file: BicepFile, r: ResourceDecl, target: ResourceDecl): boolean => prop(r.body, 'scope', file)?.text === target.symbol;

  // --- operator routes behind Entra ID (T1-E) ---------------------------------------------------------------------
  const auth = all.flatMap((file) => file.resources.filter((r) => !r.existing && r.type === 'Microsoft.Web/sites/config' && named(file, r) === 'authsettingsV2').map((r) => ({ file, r })));
  if (auth.length !== 1) v('OPERATOR_AUTH', '(all)', `expected one Microsoft.Web/sites/config 'authsettingsV2' (App Service Authentication), found ${auth.length}`);
  for (const { file, r } of auth) {
    expectLit('OPERATOR_AUTH', file, r, 'properties.platform.enabled', true);
    expectLit('OPERATOR_AUTH', file, r, 'properties.globalValidation.requireAuthentication', true);
    const action = lit(file, r, 'properties.globalValidation.unauthenticatedClientAction');
    if (action !== 'Return401' && action !== 'Return403') v('OPERATOR_AUTH', file, `unauthenticatedClientAction must refuse (Return401), found ${JSON.stringify(action)}`);
    expectLit('OPERATOR_AUTH', file, r, 'properties.identityProviders.azureActiveDirectory.enabled', true);
    const excluded = lit(file, r, 'properties.globalValidation.excludedPaths');
    if (!Array.isArray(excluded) || excluded.some((p) => typeof p !== 'string')) {
      v('OPERATOR_AUTH', file, 'globalValidation.excludedPaths must be a literal list of paths');
    } else {
      const covers = (pattern: string, path: string): boolean => (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path);
      for (const route of ctx.operatorRoutes) {
        const path = samplePath(route);
        const hit = (excluded as string[]).find((p) => covers(p, path));
        if (hit) v('OPERATOR_AUTH', file, `excludedPaths entry ${hit} lets /${'api/' + route} past App Service Authentication`);
      }
      // The webhook edge and the health probe must stay reachable without a token (their own controls apply).
      for (const route of ctx.anonymousRoutes) {
        if (!(excluded as string[]).some((p) => covers(p, samplePath(route)))) v('OPERATOR_AUTH', file, `anonymous route /api/${route} is not in excludedPaths: Entra ID would refuse webhook senders`);
      }
    }
    const audiences = prop(r.body, 'properties.identityProviders.azureActiveDirectory.validation.allowedAudiences', file);
    if (!audiences || audiences.type !== 'array' || audiences.namedChildren.length === 0) v('OPERATOR_AUTH', file, 'azureActiveDirectory.validation.allowedAudiences must name the operator API');
    const issuer = prop(r.body, 'properties.identityProviders.azureActiveDirectory.registration.openIdIssuer', file)?.text ?? '';
    if (!/subscription\(\)\.tenantId/.test(issuer) || !/environment\(\)/.test(issuer)) v('OPERATOR_AUTH', file, 'openIdIssuer must be this tenant on this cloud\'s login endpoint');
  }
  wiring('OPERATOR_AUTH', 'modules/function-app.bicep', 'operatorApiClientId', /^operatorApiClientId$/);
  const operatorParam = mainFile?.params.get('operatorApiClientId');
  if (mainFile && (!operatorParam || operatorParam.defaultValue)) v('OPERATOR_AUTH', mainFile, 'param operatorApiClientId must be required (no default): every deployment names its operator API');

  // --- private data plane -----------------------------------------------------------------------------------------
  const dataServices = ['Microsoft.DocumentDB/databaseAccounts', 'Microsoft.ServiceBus/namespaces', 'Microsoft.KeyVault/vaults', 'Microsoft.Storage/storageAccounts'];
  for (const type of dataServices) {
    for (const { file, r } of resources(type)) {
      const pna = deployed(file, prop(r.body, 'properties.publicNetworkAccess', file));
      if (pna !== 'Disabled') v('PRIVATE_NETWORK', file, `${r.symbol}: publicNetworkAccess must be Disabled as deployed, found ${String(pna === UNKNOWN ? 'unresolved' : pna)}`);
      const acl = prop(r.body, 'properties.networkAcls.defaultAction', file);
      if (acl && literal(acl) !== 'Deny') v('PRIVATE_NETWORK', file, `${r.symbol}: networkAcls.defaultAction must be Deny`);
    }
  }
  for (const { file, r } of resources('Microsoft.ServiceBus/namespaces')) {
    if (deployed(file, prop(r.body, 'sku.name', file)) !== 'Premium') v('PRIVATE_NETWORK', file, `${r.symbol}: private endpoints need the Premium tier`);
  }
  // Every data service gets its private endpoint (private-endpoint.bicep, which registers it in its DNS zone).
  const peModule = 'bicep/modules/private-endpoint.bicep';
  const peFile = files.get(peModule);
  if (!peFile || !peFile.resources.some((r) => r.type === 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups' && !r.existing)) {
    v('PRIVATE_ENDPOINTS', peModule, 'private endpoints must register in their private DNS zone (privateDnsZoneGroups)');
  }
  const peCalls = mainFile ? mainFile.modules.filter((m) => resolveModulePath(mainFile, m) === peModule) : [];
  const peEntries: Array<{ groupId: unknown; service: string; zone: string }> = [];
  for (const call of peCalls) {
    const loop = call.body.parent?.type === 'for_statement' ? call.body.parent : undefined;
    const iterable = loop ? loop.namedChildren.find((c) => c.type === 'identifier' && mainFile!.vars.has(c.text)) : undefined;
    for (const item of iterable ? collectObjects(iterable, mainFile!) : []) {
      peEntries.push({ groupId: literal(prop(item, 'groupId')), service: prop(item, 'serviceId')?.text ?? '', zone: prop(item, 'zoneId')?.text ?? '' });
    }
    for (const [param, pattern] of [['serviceId', /\.serviceId$/], ['groupId', /\.groupId$/], ['privateDnsZoneId', /\.zoneId$/], ['subnetId', /^network\.outputs\.privateEndpointsSubnetId$/]] as const) {
      const arg = prop(call.body, `params.${param}`, mainFile!);
      if (!arg || !pattern.test(arg.text)) v('PRIVATE_ENDPOINTS', mainFile!, `module ${call.symbol}: ${param} must come from the private endpoint list, found ${arg?.text ?? 'nothing'}`);
    }
  }
  for (const [groupId, service] of PRIVATE_ENDPOINTS) {
    const e = peEntries.find((x) => x.groupId === groupId && service.test(x.service));
    if (!e) v('PRIVATE_ENDPOINTS', mainFile ?? '(all)', `no private endpoint '${groupId}' for ${service.source.replace(/\\/g, '').replace(/[\^$]/g, '')}`);
    else if (!/^network\.outputs\.\w+ZoneId$/.test(e.zone)) v('PRIVATE_ENDPOINTS', mainFile ?? '(all)', `private endpoint '${groupId}' must use a network.bicep DNS zone`);
  }
  const net = files.get('bicep/modules/network.bicep');
  if (!net || !net.resources.some((r) => r.type === 'Microsoft.Network/privateDnsZones/virtualNetworkLinks' && !r.existing)) v('PRIVATE_ENDPOINTS', 'bicep/modules/network.bicep', 'the private DNS zones must be linked to the VNet');
  for (const { file, r } of resources('Microsoft.Web/sites')) {
    const subnet = prop(r.body, 'properties.virtualNetworkSubnetId', file);
    if (!subnet) v('PRIVATE_NETWORK', file, `${r.symbol}: the Function app needs VNet integration (virtualNetworkSubnetId) to reach the private endpoints`);
    else if (subnet.type === 'identifier' && file.params.has(subnet.text)) wiring('PRIVATE_NETWORK', relModule(file), subnet.text, /^network\.outputs\.functionsSubnetId$/);
    expectLit('PRIVATE_NETWORK', file, r, 'properties.siteConfig.vnetRouteAllEnabled', true);
    expectLit('FUNCTIONS_SCM', file, r, 'properties.siteConfig.scmIpSecurityRestrictionsDefaultAction', 'Deny');
    expectLit('FUNCTIONS_SCM', file, r, 'properties.siteConfig.scmIpSecurityRestrictionsUseMain', false);
  }
  for (const { file, r } of resources('Microsoft.Cdn/profiles/originGroups/origins')) {
    expectLit('FRONT_DOOR_PRIVATE_LINK', file, r, 'properties.sharedPrivateLinkResource.groupId', 'sites');
    const target = prop(r.body, 'properties.sharedPrivateLinkResource.privateLink.id', file);
    if (!target) v('FRONT_DOOR_PRIVATE_LINK', file, `${r.symbol}: Front Door must reach the app over Private Link`);
    else if (target.type === 'identifier' && file.params.has(target.text)) wiring('FRONT_DOOR_PRIVATE_LINK', relModule(file), target.text, /^functionApp\.outputs\.id$/);
  }

  // --- audit signing key out of the app's reach (T1-R) ------------------------------------------------------------
  wiring('AUDIT_KEY', 'modules/function-app.bicep', 'auditKeyVaultUrl', /^(\w+)\.outputs\.vaultUri$/);
  wiring('AUDIT_KEY', 'modules/function-app.bicep', 'auditSigningKeySecretName', /^(\w+)\.outputs\.auditSigningKeySecretName$/);
  if (mainFile) {
    const appCall = mainFile.modules.find((m) => resolveModulePath(mainFile, m) === 'bicep/modules/function-app.bicep');
    const vaultSymbol = /^(\w+)\.outputs\.vaultUri$/.exec(prop(appCall?.body, 'params.auditKeyVaultUrl', mainFile)?.text ?? '')?.[1];
    const keySymbol = /^(\w+)\.outputs\./.exec(prop(appCall?.body, 'params.auditSigningKeySecretName', mainFile)?.text ?? '')?.[1];
    const vaultCall = mainFile.modules.find((m) => m.symbol === vaultSymbol && resolveModulePath(mainFile, m) === 'bicep/modules/key-vault.bicep');
    if (!vaultCall) {
      v('AUDIT_KEY', mainFile, 'the app must read the signing key from a key-vault.bicep vault (auditKeyVaultUrl)');
    } else {
      if (keySymbol !== vaultSymbol) v('AUDIT_KEY', mainFile, `the signing key name must come from the audit vault ${vaultSymbol}, found ${keySymbol ?? 'nothing'}`);
      const writers = prop(vaultCall.body, 'params.secretWriterPrincipalIds', mainFile);
      if (!writers || JSON.stringify(literal(writers)) !== '[]') v('AUDIT_KEY', mainFile, `the audit vault ${vaultSymbol} must grant no one the secret writer role (found ${writers?.text ?? 'the default'})`);
      const hookVaults = mainFile.modules.filter((m) => m !== vaultCall && resolveModulePath(mainFile, m) === 'bicep/modules/key-vault.bicep');
      if (hookVaults.length === 0) v('AUDIT_KEY', mainFile, 'the audit vault must be separate from the vault the app writes hook secrets to');
    }
  }

  // --- operable AKS -----------------------------------------------------------------------------------------------
  for (const { file, r } of resources('Microsoft.ContainerService/managedClusters')) {
    const admins = roleAssignmentsIn(file).filter((x) => x.roleId === DEPLOYMENT_ROLE.aksRbacClusterAdmin && scopedTo(file, x.r, r));
    if (admins.length === 0) v('AKS_OPERATORS', file, 'no AKS RBAC Cluster Admin assignment on the cluster: nobody could operate it (local accounts are off)');
    for (const a of admins) {
      if (literal(prop(a.r.body, 'properties.principalType', file)) !== 'Group') v('AKS_OPERATORS', file, `${a.r.symbol}: the cluster role goes to an Entra group (principalType Group)`);
      const iter = a.r.loop?.iterable;
      if (iter?.type === 'identifier' && file.params.has(iter.text)) wiring('AKS_OPERATORS', relModule(file), iter.text, /^aksOperatorGroupObjectIds$/);
    }
    const pools = prop(r.body, 'properties.agentPoolProfiles', file);
    const poolObjects = pools?.type === 'array' ? pools.namedChildren.filter((p) => p.type === 'object') : [];
    const taintsOf = (p: SyntaxNode): unknown => {
      const t = prop(p, 'nodeTaints', file);
      return t ? literal(t) : [];
    };
    const untainted = poolObjects.filter((p) => Array.isArray(taintsOf(p)) && (taintsOf(p) as unknown[]).length === 0);
    if (untainted.length === 0) v('AKS_POOLS', file, 'every pool is tainted: Kyverno, controllers and az aks command invoke could not schedule; add an untainted platform pool');
    const system = poolObjects.find((p) => literal(prop(p, 'mode')) === 'System');
    const zones = system ? deployed(file, prop(system, 'availabilityZones', file)) : undefined;
    if (!Array.isArray(zones) || zones.length < 2) v('AKS_ZONES', file, `the system pool must spread over at least two availability zones, found ${JSON.stringify(zones === UNKNOWN ? 'unresolved' : zones)}`);
    expectLit('AKS_DEFENDER', file, r, 'properties.securityProfile.defender.securityMonitoring.enabled', true);
    if (!prop(r.body, 'properties.securityProfile.defender.logAnalyticsWorkspaceResourceId', file)) v('AKS_DEFENDER', file, 'Defender for Containers needs the workspace');
    const assignments = file.resources.filter((x) => !x.existing && x.type === 'Microsoft.Authorization/policyAssignments' && scopedTo(file, x, r));
    const pss = assignments.find((x) => {
      const def = prop(x.body, 'properties.policyDefinitionId', file);
      return def !== undefined && evaluateGuid(def, file) === RESTRICTED_POD_SECURITY_INITIATIVE;
    });
    if (!pss) {
      v('AKS_POD_SECURITY', file, 'no assignment of the restricted pod security initiative on the cluster');
    } else {
      expectLit('AKS_POD_SECURITY', file, pss, 'properties.enforcementMode', 'Default');
      expectLit('AKS_POD_SECURITY', file, pss, 'properties.parameters.effect.value', 'deny');
      const excluded = deployed(file, prop(pss.body, 'properties.parameters.excludedNamespaces.value', file));
      const sandboxNs = mainFile ? deployed(mainFile, mainFile.params.get('sandboxNamespaces')?.defaultValue) : [];
      if (!Array.isArray(excluded)) v('AKS_POD_SECURITY', file, 'excludedNamespaces must be a deploy-time list');
      else for (const ns of Array.isArray(sandboxNs) ? sandboxNs : []) if (excluded.includes(ns)) v('AKS_POD_SECURITY', file, `sandbox namespace ${String(ns)} must not be exempt from restricted pod security`);
    }
    const rules = file.resources.filter((x) => !x.existing && x.type === 'Microsoft.Insights/dataCollectionRules'
      && JSON.stringify(literal(prop(x.body, 'properties.dataSources.extensions', file))).includes('ContainerInsights'));
    const assoc = file.resources.filter((x) => !x.existing && x.type === 'Microsoft.Insights/dataCollectionRuleAssociations' && scopedTo(file, x, r)
      && rules.some((dcr) => prop(x.body, 'properties.dataCollectionRuleId', file)?.text === `${dcr.symbol}.id`));
    if (rules.length === 0 || assoc.length === 0) v('AKS_INSIGHTS', file, 'Container insights needs a ContainerInsights data collection rule associated with the cluster');
    const windows = new Set(file.resources.filter((x) => !x.existing && x.type === 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations').map((x) => named(file, x)));
    for (const w of ['aksManagedAutoUpgradeSchedule', 'aksManagedNodeOSUpgradeSchedule']) if (!windows.has(w)) v('AKS_MAINTENANCE', file, `no maintenance window ${w}: upgrades could start at any hour`);
  }
  if (mainFile?.modules.some((m) => resolveModulePath(mainFile, m) === 'bicep/modules/aks.bicep')) wiring('AKS_OPERATORS', 'modules/aks.bicep', 'operatorGroupObjectIds', /^aksOperatorGroupObjectIds$/);

  // --- the sandbox images' registry (registry-policy.ts) ----------------------------------------------------------
  checkRegistry(input, deployed);

  // --- watch and keep ---------------------------------------------------------------------------------------------
  const diagnostics = resources('Microsoft.Insights/diagnosticSettings');
  const diagnosed = (file: BicepFile, target: ResourceDecl): Array<{ file: BicepFile; r: ResourceDecl }> => diagnostics.filter((d) => d.file === file && scopedTo(file, d.r, target)
    && prop(d.r.body, 'properties.workspaceId', file) !== undefined);
  for (const type of DIAGNOSED_TYPES) {
    for (const { file, r } of resources(type)) if (diagnosed(file, r).length === 0) v('DIAGNOSTICS', file, `${type} ${r.symbol} sends no logs to the workspace (diagnosticSettings)`);
  }
  for (const { file } of resources('Microsoft.Storage/storageAccounts')) {
    for (const service of STORAGE_SERVICES) {
      const targets = file.resources.filter((x) => x.type === service);
      if (!targets.some((t) => diagnosed(file, t).length > 0)) v('DIAGNOSTICS', file, `${service} sends no logs to the workspace`);
    }
  }
  for (const { file, r } of resources('Microsoft.ContainerService/managedClusters')) {
    const categories = diagnosed(file, r).flatMap((d) => collectObjects(prop(d.r.body, 'properties.logs', file), file).map((o) => literal(prop(o, 'category'))));
    if (!categories.includes('kube-audit-admin')) v('DIAGNOSTICS', file, 'the AKS control plane must log kube-audit-admin (who changed what through the API)');
  }
  const metricNames = resources('Microsoft.Insights/metricAlerts').flatMap(({ file, r }) => collectObjects(prop(r.body, 'properties.criteria.allOf', file), file)
    .map((c) => ({ metric: literal(prop(c, 'metricName')), dims: JSON.stringify(literal(prop(c, 'dimensions'))), actions: prop(r.body, 'properties.actions', file) })));
  const alertFor = (label: string, match: (m: { metric: unknown; dims: string }) => boolean): void => {
    const found = metricNames.filter(match);
    if (found.length === 0) v('ALERTS', '(all)', `no metric alert for ${label}`);
    else if (found.some((f) => !f.actions)) v('ALERTS', '(all)', `the ${label} alert notifies nobody (no action group)`);
  };
  alertFor('edge 5xx', (m) => m.metric === 'Percentage5XX');
  alertFor('origin health', (m) => m.metric === 'OriginHealthPercentage');
  alertFor('dead-lettered deliveries', (m) => m.metric === 'DeadletteredMessages');
  alertFor('sustained 429s', (m) => m.metric === 'RequestCount' && m.dims.includes('"429"'));
  const verifyAlert = resources('Microsoft.Insights/scheduledQueryRules').find(({ file, r }) => JSON.stringify(literal(prop(r.body, 'properties.criteria.allOf', file)) ?? '').includes('kars.audit.verify'));
  if (!verifyAlert) v('ALERTS', '(all)', 'no log alert on failed (or missing) kars audit verify runs');
  if (mainFile?.modules.some((m) => resolveModulePath(mainFile, m) === 'bicep/modules/alerts.bicep')) {
    wiring('ALERTS', 'modules/alerts.bicep', 'frontDoorProfileId', /^frontDoor\.outputs\.profileId$/);
    wiring('ALERTS', 'modules/alerts.bicep', 'serviceBusNamespaceId', /^serviceBus\.outputs\.namespaceId$/);
    wiring('ALERTS', 'modules/alerts.bicep', 'appInsightsId', /^monitoring\.outputs\.appInsightsId$/);
  } else {
    v('ALERTS', mainFile ?? '(all)', 'main.bicep does not deploy modules/alerts.bicep');
  }
  for (const { file, r } of resources('Microsoft.DocumentDB/databaseAccounts')) {
    const lock = file.resources.find((x) => !x.existing && x.type === 'Microsoft.Authorization/locks' && scopedTo(file, x, r));
    if (!lock || literal(prop(lock.body, 'properties.level', file)) !== 'CanNotDelete') v('COSMOS_LOCK', file, `${r.symbol} holds the audit chains: it needs a CanNotDelete lock`);
    const tier = lit(file, r, 'properties.backupPolicy.continuousModeProperties.tier');
    expectLit('COSMOS_BACKUP', file, r, 'properties.backupPolicy.type', 'Continuous');
    if (tier !== 'Continuous30Days') v('COSMOS_BACKUP', file, `point-in-time restore must reach back 30 days (Continuous30Days), found ${JSON.stringify(tier)}`);
  }
  const budgets = resources('Microsoft.Consumption/budgets');
  if (budgets.length === 0) v('BUDGET', '(all)', 'no cost budget');
  for (const { file, r } of budgets) {
    const notifications = prop(r.body, 'properties.notifications', file);
    if (!notifications || notifications.type !== 'object' || entries(notifications).length === 0) v('BUDGET', file, `${r.symbol} notifies nobody`);
  }

  // --- WAF per-IP rate far below the edge's global budget (T1-D) --------------------------------------------------
  if (mainFile) {
    const perIp = deployed(mainFile, mainFile.params.get('wafRateLimitPerMinute')?.defaultValue);
    const globalRps = deployed(mainFile, mainFile.params.get('limitGlobalRps')?.defaultValue);
    if (typeof perIp !== 'number' || typeof globalRps !== 'number' || perIp > (globalRps * 60) / 10) {
      v('WAF_PER_IP', mainFile, `the WAF per-IP rate (${String(perIp)}/min) must be at most a tenth of the edge's global budget (${String(globalRps)} rps = ${Number(globalRps) * 60}/min)`);
    }
    wiring('WAF_PER_IP', 'modules/front-door.bicep', 'rateLimitPerMinute', /^wafRateLimitPerMinute$/);
  }
  for (const { file, r } of resources('Microsoft.Network/FrontDoorWebApplicationFirewallPolicies')) {
    const rules = collectObjects(prop(r.body, 'properties.customRules.rules', file), file).filter((x) => literal(prop(x, 'ruleType')) === 'RateLimitRule');
    for (const rule of rules) {
      const moduleDefault = deployed(file, prop(rule, 'rateLimitThreshold', file));
      if (typeof moduleDefault !== 'number') v('WAF_PER_IP', file, 'rateLimitThreshold must be a deploy-time number');
      if (!JSON.stringify(literal(prop(rule, 'groupBy', file))).includes('SocketAddr')) v('WAF_PER_IP', file, 'the rate limit must be counted per client (groupBy SocketAddr)');
    }
  }
}

function relModule(file: BicepFile): string {
  return file.path.replace(/^bicep\//, '');
}

/** The GUID an expression names (a literal or a variable holding one, possibly inside a call). */
function evaluateGuid(node: SyntaxNode, file: BicepFile): string | undefined {
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const value = n.type === 'identifier' ? evaluate(n, new Map(), file) : literal(n);
    if (typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) return value;
    stack.push(...n.namedChildren);
  }
  return undefined;
}

/** `/api/...` for a route template, parameters filled with a sample segment. */
function samplePath(route: string): string {
  return '/api/' + route.replace(/\{[^}]+\}/g, 'x1');
}
