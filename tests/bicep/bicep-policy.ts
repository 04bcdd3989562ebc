// Offline policy over the bicep/ sources (syntax tree, no compiler): the security properties the deployment promises,
// cross-file wiring (module params and outputs, symbols) and consistency with the app (settings, containers, queue).
import { posix } from 'node:path';
import {
  deref, descendants, entries, evaluate, literal, nodesOf, NOT_LITERAL, paramScope, parseBicep, prop, stringLiteral, syntaxProblems,
  UNKNOWN,
} from './bicep-model';
import type { BicepFile, ModuleDecl, ResourceDecl, SyntaxNode } from './bicep-model';
import { checkDeployment } from './deployment-policy';
import { collectObjects, describe, isoSeconds, resolveModulePath, roleAssignmentsIn, roleIdOf, type PolicyContext } from './policy-helpers';

export { collectObjects, describe, isoSeconds, resolveModulePath, roleAssignmentsIn, roleIdOf, type PolicyContext };

export interface Violation {
  rule: string;
  file: string;
  message: string;
}

// Built-in role definition ids (Azure RBAC) and Cosmos DB data-plane role ids.
/** Azure Service Bus Data Owner (Send, Listen, Manage). */
const SERVICE_BUS_DATA_OWNER = '090c5cfd-751d-490a-894a-3ce6f1109419';

export const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  cognitiveServicesOpenAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002',
} as const;

// Bicep functions this template may call; anything else is a typo the compiler would reject.
const KNOWN_FUNCTIONS = new Set([
  'allowed', 'any', 'batchSize', 'concat', 'contains', 'description', 'empty', 'environment', 'first', 'guid', 'int',
  'last', 'length', 'maxLength', 'maxValue', 'minLength', 'minValue', 'replace', 'resourceGroup', 'secure', 'split',
  'string', 'subscription', 'subscriptionResourceId', 'substring', 'take', 'tenantResourceId', 'toLower', 'union', 'uniqueString', 'utcNow',
]);
// Cloud-specific host names (the no-hardcoded-env-urls linter rule): sovereign clouds differ; use environment().
const ENV_HOSTS = /(management\.azure\.com|login\.microsoftonline\.com|vault\.azure\.net|servicebus\.windows\.net|documents\.azure\.com|core\.windows\.net|azurewebsites\.net|graph\.windows\.net)/i;
const SECRETISH_SETTING = /(KEY|CONNECTION|CONNECTION_?STRING)$/i;
const SECRETISH_OUTPUT = /(key|secret|password|token|connection|credential)/i;

/** Parses every file and runs the policy. `sources` maps repo-relative paths ('bicep/main.bicep') to text. */
export function checkBicepSources(sources: ReadonlyMap<string, string>, ctx: PolicyContext): Violation[] {
  return checkBicep(parseBicepSources(sources), ctx);
}

const parsed = new Map<string, BicepFile>();
const problems = new WeakMap<BicepFile, string[]>();

const symbolProblems = new WeakMap<BicepFile, string[]>();

function symbolProblemsOf(file: BicepFile): string[] {
  let p = symbolProblems.get(file);
  if (!p) {
    const found: string[] = [];
    checkSymbols(file, (m) => found.push(m));
    p = found;
    symbolProblems.set(file, p);
  }
  return p;
}

function syntaxProblemsOf(file: BicepFile): string[] {
  let p = problems.get(file);
  if (!p) {
    p = syntaxProblems(file.root);
    problems.set(file, p);
  }
  return p;
}

/** Parses each source once per process (mutation tests re-check mostly unchanged file sets). */
export function parseBicepSources(sources: ReadonlyMap<string, string>): Map<string, BicepFile> {
  const files = new Map<string, BicepFile>();
  for (const [path, source] of sources) {
    const key = `${path}\0${source}`;
    let file = parsed.get(key);
    if (!file) {
      file = parseBicep(source, path);
      parsed.set(key, file);
    }
    files.set(path, file);
  }
  return files;
}

export function checkBicep(files: ReadonlyMap<string, BicepFile>, ctx: PolicyContext): Violation[] {
  const out: Violation[] = [];
  const v = (rule: string, file: BicepFile | string, message: string): void => {
    out.push({ rule, file: typeof file === 'string' ? file : file.path, message });
  };
  const all = [...files.values()];
  const resources = (type: string): Array<{ file: BicepFile; r: ResourceDecl }> =>
    all.flatMap((file) => file.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase() && !r.existing).map((r) => ({ file, r })));
  const lit = (file: BicepFile, r: ResourceDecl, path: string): unknown => literal(prop(r.body, path, file));
  const expectLit = (rule: string, file: BicepFile, r: ResourceDecl, path: string, want: unknown): void => {
    const got = lit(file, r, path);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      v(rule, file, `${r.type} ${r.symbol}: ${path} must be the literal ${JSON.stringify(want)}, found ${describe(prop(r.body, path, file))}`);
    }
  };
  const requireOne = (rule: string, type: string): Array<{ file: BicepFile; r: ResourceDecl }> => {
    const found = resources(type);
    if (found.length === 0) v(rule, '(all)', `no ${type} resource is declared`);
    return found;
  };

  // --- syntax, symbols, modules ---------------------------------------------------------------------------------
  for (const file of all) {
    for (const p of syntaxProblemsOf(file)) v('SYNTAX', file, `tree-sitter-bicep: ${p}`);
    for (const m of symbolProblemsOf(file)) v('SYMBOLS', file, m);
    for (const m of file.modules) checkModuleCall(file, m, files, (msg) => v('MODULES', file, msg));
  }
  const mainFile = files.get('bicep/main.bicep');
  if (!mainFile) v('MODULES', 'bicep/main.bicep', 'bicep/main.bicep is missing');

  // --- no credentials anywhere ------------------------------------------------------------------------------------
  for (const file of all) {
    for (const n of nodesOf(file)) {
      if (n.type !== 'call_expression') continue;
      const fn = n.childForFieldName('function')?.text ?? '';
      if (/(^|\.)list[A-Za-z]*$/.test(fn)) v('NO_LIST_KEYS', file, `${fn}() reads keys or connection strings: use identities (line ${n.startPosition.row + 1})`);
    }
    for (const n of nodesOf(file)) {
      if (n.type === 'string_content' && ENV_HOSTS.test(n.text) && n.parent?.parent?.type !== 'decorator' && !isInDecorator(n)) {
        v('HARDCODED_ENV_URL', file, `cloud-specific host in a literal (line ${n.startPosition.row + 1}); derive it from environment() or a resource property`);
      }
    }
    for (const o of file.outputs) {
      if (SECRETISH_OUTPUT.test(o.name) && !/(Name|Names|Id|Ids|Url|Uri)$/.test(o.name)) v('OUTPUT_SECRETS', file, `output ${o.name} looks like a secret; outputs are stored in the deployment history`);
    }
    for (const p of file.params.values()) {
      if (p.decorators.includes('secure') && p.defaultValue) v('SECURE_PARAMS', file, `@secure() param ${p.name} must not have a default`);
    }
    for (const { r } of resources('Microsoft.KeyVault/vaults/secrets').filter((x) => x.file === file)) {
      v('KEYVAULT', file, `secret resource ${r.symbol}: the template must never carry a secret value`);
    }
  }

  // --- Cosmos DB --------------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('COSMOS', 'Microsoft.DocumentDB/databaseAccounts')) {
    expectLit('COSMOS_LOCAL_AUTH', file, r, 'properties.disableLocalAuth', true);
    expectLit('COSMOS', file, r, 'properties.disableKeyBasedMetadataWriteAccess', true);
    expectLit('COSMOS', file, r, 'properties.minimalTlsVersion', 'Tls12');
    const pna = prop(r.body, 'properties.publicNetworkAccess', file);
    if (!pna || pna.type !== 'identifier' || !file.params.has(pna.text)) v('COSMOS', file, 'properties.publicNetworkAccess must come from a parameter (configurable)');
  }
  const containerTtl = new Map<string, number | undefined>();
  for (const { file, r } of resources('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers')) {
    const scope = paramScope(file);
    const names = r.loop ? evaluate(r.loop.iterable, scope, file) : [evaluate(prop(r.body, 'name', file), scope, file)];
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      v('COSMOS_CONTAINERS', file, `containers ${r.symbol}: names must be deploy-time constants`);
      continue;
    }
    const paths = lit(file, r, 'properties.resource.partitionKey.paths');
    if (JSON.stringify(paths) !== JSON.stringify(['/pk'])) v('COSMOS_CONTAINERS', file, `containers ${r.symbol}: partitionKey.paths must be ['/pk'], found ${describe(prop(r.body, 'properties.resource.partitionKey.paths', file))}`);
    const ttlNode = prop(r.body, 'properties.resource.defaultTtl', file);
    const ttl = ttlNode ? literal(ttlNode) : undefined;
    if (ttl === NOT_LITERAL) v('COSMOS_CONTAINERS', file, `containers ${r.symbol}: defaultTtl must be a literal`);
    for (const n of names as string[]) containerTtl.set(n, typeof ttl === 'number' ? ttl : undefined);
  }
  for (const spec of ctx.containers) {
    if (!containerTtl.has(spec.id)) {
      v('COSMOS_CONTAINERS', '(all)', `container ${spec.id} (used by the app) is not provisioned; with local auth off the app cannot create it`);
    } else if (containerTtl.get(spec.id) !== spec.defaultTtlSec) {
      v('COSMOS_CONTAINERS', '(all)', `container ${spec.id}: defaultTtl must be ${spec.defaultTtlSec ?? 'absent'}, found ${containerTtl.get(spec.id) ?? 'absent'}`);
    }
  }
  for (const [id, ttl] of containerTtl) {
    if (ttl !== undefined && ttl !== -1) v('COSMOS_CONTAINERS', '(all)', `container ${id}: a default expiry (${ttl}) would purge documents the app did not mark; use -1`);
  }
  const sqlRoles = requireOne('COSMOS_RBAC', 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
  if (!sqlRoles.some(({ file, r }) => roleIdOf(prop(r.body, 'properties.roleDefinitionId', file), file) === ROLE.cosmosDataContributor)) {
    v('COSMOS_RBAC', '(all)', 'no Cosmos DB Built-in Data Contributor assignment (the app has no key, only this role)');
  }
  wiring('COSMOS_RBAC', 'modules/cosmos.bicep', 'dataContributorPrincipalIds', /functionPrincipalId/);

  // --- Service Bus ------------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('SERVICEBUS', 'Microsoft.ServiceBus/namespaces')) {
    expectLit('SERVICEBUS_LOCAL_AUTH', file, r, 'properties.disableLocalAuth', true);
    expectLit('SERVICEBUS', file, r, 'properties.minimumTlsVersion', '1.2');
  }
  const queues = requireOne('SERVICEBUS_QUEUE', 'Microsoft.ServiceBus/namespaces/queues');
  const edge = queues.find(({ file, r }) => evaluate(prop(r.body, 'name', file), paramScope(file), file) === ctx.edgeQueueName);
  if (!edge) {
    v('SERVICEBUS_QUEUE', '(all)', `queue ${ctx.edgeQueueName} is not declared`);
  } else {
    const { file, r } = edge;
    expectLit('SERVICEBUS_QUEUE', file, r, 'properties.requiresSession', true);
    expectLit('SERVICEBUS_QUEUE', file, r, 'properties.requiresDuplicateDetection', true);
    expectLit('SERVICEBUS_QUEUE', file, r, 'properties.maxDeliveryCount', 10);
    const scope = paramScope(file);
    const lock = evaluate(prop(r.body, 'properties.lockDuration', file), scope, file);
    const lockSec = typeof lock === 'string' ? isoSeconds(lock) : undefined;
    if (lockSec === undefined || lockSec < 5 || lockSec > 300) v('SERVICEBUS_QUEUE', file, `lockDuration must be an ISO duration of 5 s .. 5 min, found ${String(lock)}`);
    const window = evaluate(prop(r.body, 'properties.duplicateDetectionHistoryTimeWindow', file), scope, file);
    if (typeof window !== 'string' || isoSeconds(window) === undefined) v('SERVICEBUS_QUEUE', file, 'duplicateDetectionHistoryTimeWindow must be an ISO duration');
    const sbRoles = roleAssignmentsIn(file);
    for (const role of [ROLE.serviceBusDataSender, ROLE.serviceBusDataReceiver]) {
      const ra = sbRoles.find((x) => x.roleId === role);
      if (!ra) v('SERVICEBUS_RBAC', file, `no role assignment of ${role} in ${file.path}`);
      else if (prop(ra.r.body, 'scope', file)?.text !== r.symbol) v('SERVICEBUS_RBAC', file, `${ra.r.symbol} must be scoped to the queue ${r.symbol}`);
    }
  }
  wiring('SERVICEBUS_RBAC', 'modules/service-bus.bicep', 'senderPrincipalIds', /functionPrincipalId/);
  // T1-E: no router identity may receive from the shared edge queue; each sandbox's own identity reads its own queue.
  notWired('SERVICEBUS_RBAC', 'modules/service-bus.bicep', 'receiverPrincipalIds', /router/i);

  // --- one sandbox, one identity (T1-E) ---------------------------------------------------------------------------
  const sandboxModule = files.get('bicep/modules/sandbox-identity.bicep');
  if (!sandboxModule) {
    v('SANDBOX_IDENTITY', 'bicep/modules/sandbox-identity.bicep', 'the per-sandbox identity module is missing');
  } else {
    wiring('SANDBOX_IDENTITY', 'modules/sandbox-identity.bicep', 'senderPrincipalIds', /functionPrincipalId/);
    const queue = sandboxModule.resources.find((r) => r.type.startsWith('Microsoft.ServiceBus/namespaces/queues') && !r.existing);
    const identity = sandboxModule.resources.find((r) => r.type === 'Microsoft.ManagedIdentity/userAssignedIdentities' && !r.existing);
    const receivers = roleAssignmentsIn(sandboxModule).filter((x) => x.roleId === ROLE.serviceBusDataReceiver);
    if (!queue || !identity) v('SANDBOX_IDENTITY', sandboxModule, 'the module must declare the sandbox\'s queue and its user-assigned identity');
    else if (receivers.length !== 1) v('SANDBOX_IDENTITY', sandboxModule, 'exactly one Data Receiver assignment, for the sandbox identity');
    else {
      const ra = receivers[0]!.r;
      if (prop(ra.body, 'scope', sandboxModule)?.text !== queue.symbol) v('SANDBOX_IDENTITY', sandboxModule, `${ra.symbol} must be scoped to the sandbox queue ${queue.symbol}`);
      if (prop(ra.body, 'properties.principalId', sandboxModule)?.text !== `${identity.symbol}.properties.principalId`) {
        v('SANDBOX_IDENTITY', sandboxModule, `${ra.symbol} must name the sandbox's own identity ${identity.symbol}`);
      }
    }
  }
  // No identity receives namespace-wide: every Data Receiver / Data Owner assignment names one queue (T1-E).
  for (const file of all) {
    const queueSymbols = new Set(file.resources.filter((r) => r.type.startsWith('Microsoft.ServiceBus/namespaces/queues')).map((r) => r.symbol));
    for (const { r, roleId } of roleAssignmentsIn(file)) {
      if (roleId !== ROLE.serviceBusDataReceiver && roleId !== SERVICE_BUS_DATA_OWNER) continue;
      const scope = prop(r.body, 'scope', file)?.text;
      if (!scope || !queueSymbols.has(scope)) {
        v('SERVICEBUS_NO_NAMESPACE_RECEIVE', file, `${r.symbol} grants receive rights beyond one queue (scope ${scope ?? 'the deployment'})`);
      }
    }
  }

  // --- Storage ----------------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('STORAGE', 'Microsoft.Storage/storageAccounts')) {
    expectLit('STORAGE_SHARED_KEY', file, r, 'properties.allowSharedKeyAccess', false);
    expectLit('STORAGE', file, r, 'properties.allowBlobPublicAccess', false);
    expectLit('STORAGE', file, r, 'properties.minimumTlsVersion', 'TLS1_2');
    expectLit('STORAGE', file, r, 'properties.supportsHttpsTrafficOnly', true);
    const roles = roleAssignmentsIn(file).map((x) => x.roleId);
    for (const role of [ROLE.storageBlobDataOwner, ROLE.storageQueueDataContributor, ROLE.storageTableDataContributor]) {
      if (!roles.includes(role)) v('STORAGE', file, `identity-based host storage and Durable need role ${role}`);
    }
  }
  for (const { file, r } of resources('Microsoft.Storage/storageAccounts/blobServices/containers')) expectLit('STORAGE', file, r, 'properties.publicAccess', 'None');

  // --- Key Vault --------------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('KEYVAULT', 'Microsoft.KeyVault/vaults')) {
    expectLit('KEYVAULT_RBAC', file, r, 'properties.enableRbacAuthorization', true);
    expectLit('KEYVAULT', file, r, 'properties.enableSoftDelete', true);
    expectLit('KEYVAULT_PURGE', file, r, 'properties.enablePurgeProtection', true);
    if (!roleAssignmentsIn(file).some((x) => x.roleId === ROLE.keyVaultSecretsUser)) v('KEYVAULT', file, 'the Function app needs Key Vault Secrets User on the vault');
  }
  wiring('KEYVAULT', 'modules/key-vault.bicep', 'secretReaderPrincipalIds', /functionPrincipalId/);
  const signingParam = mainFile?.params.get('auditSigningKeySecretName');
  if (mainFile && (!signingParam || signingParam.decorators.includes('secure') || typeof literal(signingParam.defaultValue) !== 'string')) {
    v('KEYVAULT', mainFile, 'param auditSigningKeySecretName (a secret NAME with a default) is required');
  }

  // --- Function app -----------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('FUNCTIONS', 'Microsoft.Web/serverfarms')) {
    expectLit('FUNCTIONS', file, r, 'sku.name', 'FC1');
    expectLit('FUNCTIONS', file, r, 'sku.tier', 'FlexConsumption');
  }
  const sites = requireOne('FUNCTIONS', 'Microsoft.Web/sites');
  for (const { file, r } of sites) {
    expectLit('FUNCTIONS_HTTPS', file, r, 'properties.httpsOnly', true);
    expectLit('FUNCTIONS_TLS', file, r, 'properties.siteConfig.minTlsVersion', '1.2');
    expectLit('FUNCTIONS_TLS', file, r, 'properties.siteConfig.scmMinTlsVersion', '1.2');
    expectLit('FUNCTIONS_FTP', file, r, 'properties.siteConfig.ftpsState', 'Disabled');
    const debug = prop(r.body, 'properties.siteConfig.remoteDebuggingEnabled', file);
    if (debug && literal(debug) !== false) v('FUNCTIONS', file, 'remoteDebuggingEnabled must be false');
    const identityType = lit(file, r, 'identity.type');
    if (typeof identityType !== 'string' || !/Assigned/.test(identityType)) v('FUNCTIONS_IDENTITY', file, 'the Function app needs a managed identity');
    expectLit('FUNCTIONS', file, r, 'properties.functionAppConfig.runtime', { name: 'node', version: '20' });
    const auth = lit(file, r, 'properties.functionAppConfig.deployment.storage.authentication.type');
    if (typeof auth !== 'string' || !/Identity$/.test(auth)) v('FUNCTIONS', file, `deployment storage must authenticate with a managed identity, found ${String(auth)}`);
    for (const name of ['ftp', 'scm']) {
      const policy = file.resources.find((x) => x.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies' && literal(prop(x.body, 'name', file)) === name);
      if (!policy) v('FUNCTIONS_FTP', file, `basicPublishingCredentialsPolicies/${name} is not declared`);
      else if (literal(prop(policy.body, 'properties.allow', file)) !== false) v('FUNCTIONS_FTP', file, `basic ${name} publishing credentials must be disabled (allow: false)`);
    }
    checkFrontDoorOnly(file, r);
  }
  const appSettings = all.flatMap((file) => file.resources
    .filter((x) => x.type === 'Microsoft.Web/sites/config' && literal(prop(x.body, 'name', file)) === 'appsettings')
    .map((x) => ({ file, r: x })));
  if (appSettings.length !== 1) v('APP_SETTINGS', '(all)', `expected one Microsoft.Web/sites/config 'appsettings', found ${appSettings.length}`);
  for (const { file, r } of appSettings) checkAppSettings(file, r);

  // --- monitoring -------------------------------------------------------------------------------------------------
  for (const { file, r } of resources('Microsoft.Insights/components')) expectLit('MONITORING', file, r, 'properties.DisableLocalAuth', true);
  if (!all.some((f) => roleAssignmentsIn(f).some((x) => x.roleId === ROLE.monitoringMetricsPublisher))) {
    v('MONITORING', '(all)', 'Entra-only App Insights ingestion needs Monitoring Metrics Publisher for the app identity');
  }

  // --- AKS --------------------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('AKS', 'Microsoft.ContainerService/managedClusters')) {
    expectLit('AKS_OIDC', file, r, 'properties.oidcIssuerProfile.enabled', true);
    expectLit('AKS_WORKLOAD_IDENTITY', file, r, 'properties.securityProfile.workloadIdentity.enabled', true);
    expectLit('AKS', file, r, 'properties.disableLocalAccounts', true);
    expectLit('AKS', file, r, 'properties.enableRBAC', true);
    expectLit('AKS', file, r, 'properties.aadProfile.managed', true);
    expectLit('AKS', file, r, 'properties.aadProfile.enableAzureRBAC', true);
    const policy = evaluate(prop(r.body, 'properties.networkProfile.networkPolicy', file), paramScope(file), file);
    if (!['calico', 'cilium', 'azure'].includes(policy as string)) v('AKS_NETWORK_POLICY', file, `networkProfile.networkPolicy must enforce NetworkPolicy, found ${String(policy === UNKNOWN ? 'unknown' : policy)}`);
    const pools = prop(r.body, 'properties.agentPoolProfiles', file);
    const sandboxPool = pools?.type === 'array'
      ? pools.namedChildren.find((p) => p.type === 'object' && literal(prop(p, ['nodeLabels', ctx.sandboxNodeLabel[0]])) === ctx.sandboxNodeLabel[1])
      : undefined;
    const taints = sandboxPool ? literal(prop(sandboxPool, 'nodeTaints')) : undefined;
    if (!sandboxPool) v('AKS_POOLS', file, `no agent pool labelled ${ctx.sandboxNodeLabel.join('=')} (the sandbox pods' nodeSelector)`);
    else if (!Array.isArray(taints) || !taints.includes(ctx.sandboxTaint)) v('AKS_POOLS', file, `the sandbox pool must carry the taint ${ctx.sandboxTaint} the sandbox pods tolerate`);
  }
  const federations = requireOne('AKS_WORKLOAD_IDENTITY', 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials');
  for (const { file, r } of federations) {
    if (!/\.properties\.oidcIssuerProfile\.issuerURL$/.test(prop(r.body, 'properties.issuer', file)?.text ?? '')) v('AKS_WORKLOAD_IDENTITY', file, `${r.symbol}: issuer must be the cluster's OIDC issuer URL`);
    expectLit('AKS_WORKLOAD_IDENTITY', file, r, 'properties.audiences', ['api://AzureADTokenExchange']);
    const scope = paramScope(file);
    if (r.loop) scope.set(r.loop.variable, 'NS');
    else scope.set('sandboxNamespace', 'NS'); // modules/sandbox-identity.bicep: one namespace per deployment
    const subject = evaluate(prop(r.body, 'properties.subject', file), scope, file);
    if (subject !== `system:serviceaccount:NS:${ctx.routerServiceAccount}`) v('AKS_WORKLOAD_IDENTITY', file, `${r.symbol}: subject must be system:serviceaccount:<namespace>:${ctx.routerServiceAccount}, found ${String(subject === UNKNOWN ? 'unknown' : subject)}`);
  }
  const openAi = all.flatMap((f) => roleAssignmentsIn(f).filter((x) => x.roleId === ROLE.cognitiveServicesOpenAiUser).map((x) => ({ ...x, file: f })));
  if (openAi.length === 0) v('AKS_OPENAI', '(all)', 'no Cognitive Services OpenAI User assignment for the router identity');
  for (const o of openAi) wiring('AKS_OPENAI', o.file.path.replace(/^bicep\//, ''), 'routerPrincipalId', /routerPrincipalId/);

  // --- router identity (T1-E) -------------------------------------------------------------------------------------
  // Every sandbox's router shares this identity: it may receive edge deliveries and call the model, nothing else (no
  // Key Vault secrets of other tenants, no Cosmos, no Kubernetes role through Azure RBAC for Kubernetes).
  // Routers receive edge deliveries and mesh notifications (their own session of each queue) and call the model.
  const ROUTER_USES: ReadonlyArray<[string, string]> = [['modules/service-bus.bicep', 'receiverPrincipalIds'], ['modules/mesh-data.bicep', 'receiverPrincipalIds'], ['modules/openai-role.bicep', 'routerPrincipalId']];
  if (mainFile) {
    for (const n of nodesOf(mainFile)) {
      if (n.type !== 'member_expression' || n.text !== 'identities.outputs.routerPrincipalId') continue;
      let key: string | undefined;
      let p: SyntaxNode | null = n.parent;
      for (; p && p.type !== 'module_declaration' && p.type !== 'output_declaration'; p = p.parent) {
        if (p.type === 'object_property' && p.parent?.parent?.type === 'object_property' && propertyKeyOf(p.parent.parent) === 'params') key = propertyKeyOf(p);
      }
      if (p?.type === 'output_declaration') continue;
      const mod = p?.type === 'module_declaration' ? mainFile.modules.find((m) => m.body.startIndex >= p!.startIndex && m.body.endIndex <= p!.endIndex) : undefined;
      const target = mod ? resolveModulePath(mainFile, mod).replace(/^bicep\//, '') : '?';
      if (!ROUTER_USES.some(([path, param]) => path === target && param === key)) {
        v('ROUTER_ROLES', mainFile, `the router identity is passed to ${target} ${key ?? '?'} (line ${n.startPosition.row + 1}): it may only receive edge deliveries and call the model`);
      }
    }
  }
  for (const file of all) {
    if (file.path === 'bicep/modules/openai-role.bicep') continue;
    for (const r of file.resources.filter((x) => /roleAssignments$/.test(x.type) && !x.existing)) {
      if (/router/i.test(prop(r.body, 'properties.principalId', file)?.text ?? '')) v('ROUTER_ROLES', file, `${r.symbol} grants a role to the router identity`);
    }
  }

  // --- Front Door + WAF -------------------------------------------------------------------------------------------
  for (const { file, r } of requireOne('FRONT_DOOR', 'Microsoft.Cdn/profiles')) expectLit('FRONT_DOOR', file, r, 'sku.name', 'Premium_AzureFrontDoor');
  const wafs = requireOne('WAF', 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies');
  for (const { file, r } of wafs) {
    expectLit('WAF', file, r, 'sku.name', 'Premium_AzureFrontDoor');
    expectLit('WAF', file, r, 'properties.policySettings.enabledState', 'Enabled');
    expectLit('WAF_MODE', file, r, 'properties.policySettings.mode', 'Prevention');
    const sets = lit(file, r, 'properties.managedRules.managedRuleSets');
    if (!Array.isArray(sets) || !sets.some((s: { ruleSetType?: string; ruleSetAction?: string }) => s.ruleSetType === 'Microsoft_DefaultRuleSet' && (s.ruleSetAction ?? 'Block') === 'Block')) {
      v('WAF', file, 'managed rule set Microsoft_DefaultRuleSet (Block) is required');
    }
    const rules = literal(prop(r.body, 'properties.customRules.rules', file));
    const rateRules = Array.isArray(rules) ? rules.filter((x: { ruleType?: string; action?: string }) => x.ruleType === 'RateLimitRule' && x.action === 'Block') : [];
    const rulesNode = prop(r.body, 'properties.customRules.rules', file);
    const hasRate = rateRules.length > 0 || (rulesNode?.type === 'array' && rulesNode.namedChildren.some((x) => x.type === 'object' && literal(prop(x, 'ruleType')) === 'RateLimitRule' && literal(prop(x, 'action')) === 'Block' && prop(x, 'rateLimitThreshold') !== undefined));
    if (!hasRate) v('WAF_RATE_LIMIT', file, 'a RateLimitRule with action Block is required');
  }
  for (const { file, r } of requireOne('WAF', 'Microsoft.Cdn/profiles/securityPolicies')) {
    const id = prop(r.body, 'properties.parameters.wafPolicy.id', file)?.text ?? '';
    if (!wafs.some((w) => w.file === file && id === `${w.r.symbol}.id`)) v('WAF', file, `${r.symbol} must attach this file's WAF policy`);
    // T1-S: a domain or path the WAF does not cover reaches the app uninspected.
    const associations = collectObjects(prop(r.body, 'properties.parameters.associations', file), file);
    const covered = new Set(associations.flatMap((a) => collectObjects(prop(a, 'domains', file), file)).map((d) => prop(d, 'id', file)?.text.replace('!', '')));
    const domains = file.resources.filter((x) => !x.existing && ['Microsoft.Cdn/profiles/afdEndpoints', 'Microsoft.Cdn/profiles/customDomains'].includes(x.type));
    for (const d of domains) if (!covered.has(`${d.symbol}.id`)) v('WAF_COVERAGE', file, `${r.symbol} does not associate ${d.type} ${d.symbol}: its traffic would bypass the WAF`);
    if (!associations.some((a) => JSON.stringify(literal(prop(a, 'patternsToMatch', file))) === JSON.stringify(['/*']))) {
      v('WAF_COVERAGE', file, `${r.symbol} must match every path ('/*')`);
    }
  }
  for (const { file, r } of resources('Microsoft.Cdn/profiles/customDomains')) {
    const min = lit(file, r, 'properties.tlsSettings.minimumTlsVersion');
    if (min !== 'TLS12' && min !== 'TLS13') v('FRONT_DOOR_TLS', file, `custom domain ${r.symbol}: tlsSettings.minimumTlsVersion must be the literal 'TLS12' (or 'TLS13'), found ${describe(prop(r.body, 'properties.tlsSettings.minimumTlsVersion', file))}`);
    const cert = lit(file, r, 'properties.tlsSettings.certificateType');
    if (cert !== 'ManagedCertificate' && cert !== 'CustomerCertificate') v('FRONT_DOOR_TLS', file, `custom domain ${r.symbol}: certificateType must be ManagedCertificate or CustomerCertificate`);
  }
  for (const { file, r } of requireOne('FRONT_DOOR_ORIGIN', 'Microsoft.Cdn/profiles/originGroups/origins')) {
    expectLit('FRONT_DOOR_ORIGIN', file, r, 'properties.enforceCertificateNameCheck', true);
  }
  for (const { file, r } of resources('Microsoft.Cdn/profiles/originGroups')) {
    expectLit('FRONT_DOOR_ORIGIN', file, r, 'properties.healthProbeSettings.probeProtocol', 'Https');
  }
  for (const { file, r } of requireOne('FRONT_DOOR_ROUTE', 'Microsoft.Cdn/profiles/afdEndpoints/routes')) {
    const patterns = lit(file, r, 'properties.patternsToMatch');
    if (!Array.isArray(patterns) || !patterns.includes('/api/hooks/*') || patterns.some((p) => typeof p !== 'string' || !p.startsWith('/api/hooks/'))) {
      v('FRONT_DOOR_ROUTE', file, `route ${r.symbol} must expose /api/hooks/* and nothing else, found ${JSON.stringify(patterns)}`);
    }
    expectLit('FRONT_DOOR_ROUTE', file, r, 'properties.supportedProtocols', ['Https']);
    expectLit('FRONT_DOOR_ROUTE', file, r, 'properties.forwardingProtocol', 'HttpsOnly');
  }
  // The route serves exactly the endpoint and custom domain that front-door.bicep declares (and the WAF covers).
  wiring('FRONT_DOOR_ROUTE', 'modules/front-door-origin.bicep', 'endpointName', /^frontDoor\.outputs\.endpointName$/);
  wiring('FRONT_DOOR_ROUTE', 'modules/front-door-origin.bicep', 'customDomainId', /^frontDoor\.outputs\.customDomainId$/);
  wiring('FRONT_DOOR_TLS', 'modules/front-door.bicep', 'hooksCustomDomain', /^hooksCustomDomain$/);

  // --- operator auth, private data plane, audit key, operable AKS, watch and keep (deployment-policy.ts) ----------
  checkDeployment({ files, all, mainFile, ctx, v, resources, wiring });
  return out;

  // ----------------------------------------------------------------------------------------------------------------

  function checkFrontDoorOnly(file: BicepFile, r: ResourceDecl): void {
    expectLit('FUNCTIONS_FRONT_DOOR_ONLY', file, r, 'properties.siteConfig.ipSecurityRestrictionsDefaultAction', 'Deny');
    const rules = collectObjects(prop(r.body, 'properties.siteConfig.ipSecurityRestrictions', file), file);
    const afd = rules.find((o) => literal(prop(o, 'ipAddress', file)) === 'AzureFrontDoor.Backend'
      && literal(prop(o, 'tag', file)) === 'ServiceTag' && literal(prop(o, 'action', file)) === 'Allow');
    if (!afd) {
      v('FUNCTIONS_FRONT_DOOR_ONLY', file, 'ipSecurityRestrictions must allow the AzureFrontDoor.Backend service tag');
    } else {
      const fdid = prop(afd, 'headers.x-azure-fdid', file);
      const ids = fdid?.type === 'array' ? fdid.namedChildren.filter((c) => c.type !== 'comment') : [];
      if (ids.length === 0 || ids.some((c) => stringLiteral(c) !== undefined)) {
        v('FUNCTIONS_FRONT_DOOR_ONLY', file, 'the Front Door rule must check X-Azure-FDID against this deployment\'s profile id (not a literal)');
      } else {
        for (const id of ids) if (id.type === 'identifier' && file.params.has(id.text)) wiring('FUNCTIONS_FRONT_DOOR_ONLY', relModule(file), id.text, /\.outputs\.frontDoorId$/);
      }
    }
    // Operator ranges call the app directly (no WAF): the shipped default must be Front Door only.
    const operatorDefaults = [file, ...(mainFile ? [mainFile] : [])].map((f) => f.params.get('operatorIpRanges')).filter((p) => p?.defaultValue);
    for (const p of operatorDefaults) {
      if (JSON.stringify(literal(p!.defaultValue)) !== '[]') v('FUNCTIONS_FRONT_DOOR_ONLY', file, `param operatorIpRanges must default to [] (Front Door only), found ${describe(p!.defaultValue)}`);
    }
    for (const o of rules) {
      const ip = literal(prop(o, 'ipAddress', file));
      if (literal(prop(o, 'action', file)) === 'Allow' && (ip === 'Any' || ip === '0.0.0.0/0' || ip === '::/0')) v('FUNCTIONS_FRONT_DOOR_ONLY', file, `an Allow rule for ${String(ip)} bypasses Front Door`);
    }
  }

  function checkAppSettings(file: BicepFile, r: ResourceDecl): void {
    const obj = prop(r.body, 'properties', file);
    if (!obj || obj.type !== 'object') {
      v('APP_SETTINGS', file, 'appsettings properties must be an object literal (so it can be checked)');
      return;
    }
    const settings = new Map(entries(obj));
    for (const [name, value] of settings) {
      if (ctx.forbiddenSettings.includes(name)) v('APP_SETTINGS_FORBIDDEN', file, `setting ${name} must not be deployed (local-only or a credential)`);
      if (SECRETISH_SETTING.test(name)) {
        const literalValue = traceLiteral(file, value, new Set());
        if (literalValue !== undefined) v('APP_SETTINGS_LITERAL_SECRET', file, `setting ${name} has a literal value; a key or connection string must come from an identity-bound resource reference`);
      }
    }
    const kars = [...settings.keys()].filter((k) => k.startsWith('KARS_'));
    for (const k of ctx.requiredKarsSettings) if (!settings.has(k)) v('APP_SETTINGS_KARS', file, `setting ${k} (read by functions/config.ts) is missing`);
    for (const k of kars) if (!ctx.requiredKarsSettings.includes(k) && !ctx.forbiddenSettings.includes(k)) v('APP_SETTINGS_KARS', file, `setting ${k} is not read by functions/config.ts`);
    const scope = paramScope(file);
    const want: Record<string, string> = { KARS_MODE: 'azure', KARS_SECRETS_SOURCE: 'keyvault', KARS_DURABLE_TASKHUB: ctx.durableTaskHub };
    for (const [k, expected] of Object.entries(want)) {
      const got = evaluate(settings.get(k), scope, file);
      if (got !== expected) v('APP_SETTINGS_KARS', file, `setting ${k} must be ${expected}, found ${String(got === UNKNOWN ? 'unresolved' : got)}`);
    }
    for (const k of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId', 'AZURE_CLIENT_ID']) {
      if (!settings.has(k)) v('APP_SETTINGS_STORAGE', file, `identity-based host storage needs ${k}`);
    }
  }

  /** A literal string/number a value can take (directly, from a param default, or from a caller's argument). */
  function traceLiteral(file: BicepFile, node: SyntaxNode, seen: Set<string>): string | undefined {
    const n = deref(node, file);
    if (n.type === 'string' || n.type === 'number') return n.text;
    if (n.type !== 'identifier' || !file.params.has(n.text)) return undefined;
    const key = `${file.path}#${n.text}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const param = file.params.get(n.text)!;
    if (param.defaultValue) {
      const d = traceLiteral(file, param.defaultValue, seen);
      if (d !== undefined) return d;
    }
    for (const caller of all) {
      for (const m of caller.modules) {
        if (resolveModulePath(caller, m) !== file.path) continue;
        const arg = prop(m.body, `params.${n.text}`, caller);
        const t = arg ? traceLiteral(caller, arg, seen) : undefined;
        if (t !== undefined) return t;
      }
    }
    return undefined;
  }

  /** The argument main.bicep passes to `paramName` of module `modulePath` (relative to bicep/) must match `pattern`. */
  function notWired(rule: string, modulePath: string, paramName: string, pattern: RegExp): void {
    if (!mainFile) return;
    for (const m of mainFile.modules.filter((x) => resolveModulePath(mainFile, x) === `bicep/${modulePath}`)) {
      const arg = prop(m.body, `params.${paramName}`, mainFile);
      if (arg && pattern.test(arg.text)) v(rule, mainFile, `module ${m.symbol}: ${paramName} must not include ${pattern.source}`);
    }
  }

  function wiring(rule: string, modulePath: string, paramName: string, pattern: RegExp): void {
    if (!mainFile) return;
    const target = `bicep/${modulePath}`;
    const calls = mainFile.modules.filter((m) => resolveModulePath(mainFile, m) === target);
    if (calls.length === 0) {
      v(rule, mainFile, `main.bicep does not deploy ${modulePath}`);
      return;
    }
    for (const m of calls) {
      const arg = prop(m.body, `params.${paramName}`, mainFile);
      if (!arg || !pattern.test(arg.text)) v(rule, mainFile, `module ${m.symbol}: ${paramName} must be wired to ${pattern.source}, found ${arg?.text ?? 'nothing'}`);
    }
  }
}

function propertyKeyOf(p: SyntaxNode): string | undefined {
  const k = p.namedChildren[0];
  return k?.type === 'identifier' ? k.text : k?.type === 'string' ? stringLiteral(k) : undefined;
}

function isInDecorator(n: SyntaxNode): boolean {
  for (let p = n.parent; p; p = p.parent) if (p.type === 'decorator') return true;
  return false;
}

function relModule(file: BicepFile): string {
  return file.path.replace(/^bicep\//, '');
}

const DECLARATIONS = new Set(['parameter_declaration', 'variable_declaration', 'resource_declaration', 'module_declaration', 'output_declaration', 'type_declaration']);

/** Undefined identifiers, unknown functions, unused params and variables (what the compiler and linter would flag). */
function checkSymbols(file: BicepFile, report: (message: string) => void): void {
  const declared = new Set<string>([...file.params.keys(), ...file.vars.keys(), ...file.resources.map((r) => r.symbol), ...file.modules.map((m) => m.symbol)]);
  const loopVars = new Set<string>();
  for (const n of nodesOf(file)) {
    if (n.type === 'for_statement') {
      const init = n.childForFieldName('initializer');
      if (init) loopVars.add(init.text);
    }
    if (n.type === 'loop_variable' || n.type === 'loop_enumerator') loopVars.add(n.text);
  }
  const used = new Set<string>();
  for (const n of nodesOf(file)) {
    if (n.type === 'call_expression') {
      const fn = n.childForFieldName('function');
      if (fn?.type === 'identifier' && !KNOWN_FUNCTIONS.has(fn.text)) report(`unknown function ${fn.text}() at line ${fn.startPosition.row + 1}`);
      continue;
    }
    if (n.type !== 'identifier') continue;
    const parent = n.parent;
    if (!parent) continue;
    if (DECLARATIONS.has(parent.type) && parent.namedChildren[0]?.id === n.id) continue;
    if (parent.type === 'object_property' && parent.namedChildren[0]?.id === n.id) continue;
    if (parent.type === 'call_expression' && parent.childForFieldName('function')?.id === n.id) continue;
    if (parent.type === 'for_statement' && parent.childForFieldName('initializer')?.id === n.id) continue;
    if (!declared.has(n.text) && !loopVars.has(n.text)) report(`undefined symbol ${n.text} at line ${n.startPosition.row + 1}`);
    used.add(n.text);
  }
  for (const p of file.params.keys()) if (!used.has(p)) report(`param ${p} is never used`);
  for (const k of file.vars.keys()) if (!used.has(k)) report(`var ${k} is never used`);
}

/** Module target exists, arguments match its params, required params are given, referenced outputs exist. */
function checkModuleCall(file: BicepFile, m: ModuleDecl, files: ReadonlyMap<string, BicepFile>, report: (message: string) => void): void {
  const target = files.get(resolveModulePath(file, m));
  if (!target) {
    report(`module ${m.symbol}: ${m.path} not found`);
    return;
  }
  const given = prop(m.body, 'params', file);
  const givenKeys = given?.type === 'object' ? entries(given).map(([k]) => k) : [];
  for (const k of givenKeys) if (!target.params.has(k)) report(`module ${m.symbol}: ${m.path} has no param ${k}`);
  for (const p of target.params.values()) if (!p.defaultValue && !givenKeys.includes(p.name)) report(`module ${m.symbol}: required param ${p.name} of ${m.path} is not given`);
  const outputs = new Set(target.outputs.map((o) => o.name));
  for (const n of nodesOf(file)) {
    if (n.type !== 'member_expression') continue;
    const obj = n.childForFieldName('object');
    if (obj?.type !== 'member_expression' || obj.childForFieldName('property')?.text !== 'outputs') continue;
    if (obj.childForFieldName('object')?.text !== m.symbol) continue;
    const name = n.childForFieldName('property')?.text ?? '';
    if (!outputs.has(name)) report(`${m.symbol}.outputs.${name}: ${m.path} has no such output`);
  }
}
