// T1-E "Cross-tenant request", cluster half: each sandbox in its own namespace, isolated from the others. Two sandboxes
// Defends: namespace-isolation, reserved-namespaces, default-deny-network-policy, no-service-account-token, no-rbac-binding, router-identity-roles
// are rendered with the product's renderer (infra/k8s/render-sandbox-namespace.ts) next to the cluster-level manifests
// of infra/k8s, and the attacker in sandbox A tries to reach sandbox B and the rest of the cluster: network
// connections (NetworkPolicy semantics, Calico's reading of ipBlock), a Kubernetes API token, RBAC bindings, and the
// Entra router identity (Bicep). Each attack is refused; with only its control removed from the templates it gets
// through, and the static isolation policy (or the Bicep policy) flags the change.
// Static by necessity: no Kubernetes cluster runs here, so this proves what the manifests ask of Kubernetes, not that
// a live Calico/Cilium enforces it (docs/threat-model.md, T1-E note).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderSandboxManifests, SANDBOX_TEMPLATE_DIR, SANDBOX_TEMPLATE_FILES } from '../../infra/k8s/render-sandbox-namespace';
import { Cluster, clusterManifests, covers, isolationViolations, parseManifests } from '../infra/k8s/namespace-isolation';
import type { Connection, Obj } from '../infra/k8s/namespace-isolation';
import { checkBicepSources } from '../bicep/bicep-policy';
import { mutateSources, policyContext, readBicepSources } from '../bicep/bicep-sources';
import type { SourceEdit } from '../bicep/bicep-sources';
import { literal, parseBicep, prop } from '../bicep/bicep-model';

const A = 'kars-tenant-a';
const B = 'kars-tenant-b';
const SANDBOX_POD = { 'app.kubernetes.io/name': 'kars-sandbox', 'app.kubernetes.io/part-of': 'kars' };
const podA = { namespace: A, labels: SANDBOX_POD, ip: '10.244.1.10' };
const podB = { namespace: B, labels: SANDBOX_POD, ip: '10.244.2.20' };
const otherWorkload = { namespace: 'default', labels: { app: 'billing' }, ip: '10.244.3.30' };
const kubeDns = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.0.5' };
// Nodes and the private API server endpoint live in the AKS-managed VNet (10.224.0.0/12, its default address space).
const AKS_MANAGED_VNET = '10.224.0.0/12';
const nodeIp = { ip: '10.224.0.4' };
const publicService = { ip: '20.42.1.7' }; // e.g. a Service Bus / Foundry public endpoint

// --- templates, mutated in a temporary copy -------------------------------------------------------------------------

interface TemplateEdit {
  file: (typeof SANDBOX_TEMPLATE_FILES)[number];
  from: string;
  to: string;
}

const scratch = mkdtempSync(join(tmpdir(), 'kars-t1e-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let copies = 0;

function templateDir(edits: readonly TemplateEdit[]): string {
  if (edits.length === 0) return SANDBOX_TEMPLATE_DIR;
  const dir = join(scratch, String((copies += 1)));
  mkdirSync(dir);
  for (const f of SANDBOX_TEMPLATE_FILES) copyFileSync(join(SANDBOX_TEMPLATE_DIR, f), join(dir, f));
  for (const e of edits) {
    const path = join(dir, e.file);
    const before = readFileSync(path, 'utf8');
    const after = before.replace(e.from, e.to);
    if (after === before) throw new Error(`template mutation did not apply to ${e.file}: ${JSON.stringify(e.from)}`);
    writeFileSync(path, after);
  }
  return dir;
}

const template = (file: TemplateEdit['file']): string => readFileSync(join(SANDBOX_TEMPLATE_DIR, file), 'utf8');

function cluster(edits: readonly TemplateEdit[] = [], extra: readonly Obj[] = []): Cluster {
  const dir = templateDir(edits);
  const docs = [A, B].flatMap((ns) => parseManifests(renderSandboxManifests(ns, { templateDir: dir }), ns));
  return new Cluster([...docs, ...clusterManifests(), ...extra]);
}

function internalCidrs(): string[] {
  const aks = parseBicep(readFileSync(join(__dirname, '../../bicep/modules/aks.bicep'), 'utf8'), 'bicep/modules/aks.bicep');
  const cluster = aks.resources.find((r) => r.type === 'Microsoft.ContainerService/managedClusters')!;
  const net = (key: string): string => literal(prop(cluster.body, `properties.networkProfile.${key}`, aks)) as string;
  return [net('podCidr'), net('serviceCidr'), AKS_MANAGED_VNET];
}
const ctx = { sandboxNamespaces: [A, B], internalCidrs: internalCidrs() };
const flagged = (c: Cluster): string[] => [...new Set(isolationViolations(c, ctx).map((v) => v.rule))];

const connect = (c: Cluster, conn: Connection): boolean => c.allows(conn);
const bindingFor = (kind: 'RoleBinding' | 'ClusterRoleBinding', namespace: string | undefined, subjects: Obj[]): Obj => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name: 'attacker-grant', ...(namespace ? { namespace } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects,
});
const canReadB = (c: Cluster): boolean => ['kars-router', 'default'].some((sa) => c.grantsOf(A, sa).some((g) => g.scope === B || g.scope === '*'));

// The private-range excepts are one control: without them the 443 rule admits the cluster's own addresses.
const DROP_PRIVATE_EXCEPTS: TemplateEdit = {
  file: 'network-policy.yaml',
  from: '              - 10.0.0.0/8\n              - 172.16.0.0/12\n              - 192.168.0.0/16\n              - 100.64.0.0/10\n',
  to: '',
};
const defaultDenyDoc = template('network-policy.yaml').slice(template('network-policy.yaml').indexOf('apiVersion'), template('network-policy.yaml').indexOf('---\n') + 4);
const DROP_DEFAULT_DENY: TemplateEdit = { file: 'network-policy.yaml', from: defaultDenyDoc, to: '' };

interface Attack {
  name: string;
  rule: string;
  edits?: TemplateEdit[];
  extra?: Obj[];
  run(c: Cluster): unknown;
  refused: unknown;
  succeeded: unknown;
}

const ATTACKS: Attack[] = [
  {
    name: "A's pod connects to a workload in another namespace on 443",
    rule: 'NP_CROSS_NAMESPACE',
    edits: [DROP_PRIVATE_EXCEPTS],
    run: (c) => connect(c, { from: podA, to: otherWorkload, port: 443 }),
    refused: false,
    succeeded: true,
  },
  {
    name: "A's pod connects to a node or the private API server on 443",
    rule: 'NP_CROSS_NAMESPACE',
    edits: [DROP_PRIVATE_EXCEPTS],
    run: (c) => connect(c, { from: podA, to: nodeIp, port: 443 }),
    refused: false,
    succeeded: true,
  },
  {
    name: "A's pod reaches B's pod through namespaceSelector peers (egress from A, ingress into B)",
    rule: 'NP_CROSS_NAMESPACE',
    edits: [
      {
        file: 'network-policy.yaml',
        from: '  egress:\n    - to:\n',
        to: '  egress:\n    - to:\n        - namespaceSelector:\n            matchLabels:\n              kars.azure.com/sandbox: "true"\n      ports:\n        - protocol: TCP\n          port: 443\n    - to:\n',
      },
      {
        file: 'network-policy.yaml',
        from: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny-all\n',
        to: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: sandbox-peers\n  namespace: kars-example\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              kars.azure.com/sandbox: "true"\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny-all\n',
      },
    ],
    run: (c) => connect(c, { from: podA, to: podB, port: 443 }),
    refused: false,
    succeeded: true,
  },
  {
    name: "a pod anywhere in the cluster connects into A's pod",
    rule: 'NP_DEFAULT_DENY',
    edits: [DROP_DEFAULT_DENY],
    run: (c) => connect(c, { from: otherWorkload, to: podA, port: 8443 }),
    refused: false,
    succeeded: true,
  },
  {
    name: "A's pod connects to B's pod: A's egress and B's ingress both refuse it",
    rule: 'NP_DEFAULT_DENY',
    edits: [DROP_PRIVATE_EXCEPTS, DROP_DEFAULT_DENY],
    run: (c) => connect(c, { from: podA, to: podB, port: 443 }),
    refused: false,
    succeeded: true,
  },
  {
    name: 'a pod in A that names no service account gets no Kubernetes API token',
    rule: 'API_TOKEN',
    edits: [{ file: 'default-service-account.yaml', from: 'automountServiceAccountToken: false', to: 'automountServiceAccountToken: true' }],
    run: (c) => c.podGetsApiToken(A, { containers: [{ name: 'x', image: 'kars.azurecr.io/kars/agent:0.1.0' }] }),
    refused: false,
    succeeded: true,
  },
  {
    name: "A's sandbox pod gets no Kubernetes API token",
    rule: 'API_TOKEN',
    edits: [{ file: 'deployment.yaml', from: '      automountServiceAccountToken: false\n', to: '      automountServiceAccountToken: true\n' }],
    run: (c) => c.podGetsApiToken(A, c.docs.find((d) => d.kind === 'Deployment' && d.metadata.namespace === A)!.spec.template.spec),
    refused: false,
    succeeded: true,
  },
  {
    name: "A's service accounts cannot read namespace B (a cross-namespace RoleBinding in B)",
    rule: 'RBAC',
    extra: [bindingFor('RoleBinding', B, [{ kind: 'ServiceAccount', name: 'kars-router', namespace: A }])],
    run: canReadB,
    refused: false,
    succeeded: true,
  },
  {
    name: "A's service accounts cannot read namespace B (a template RoleBinding for every service account)",
    rule: 'RBAC',
    edits: [{
      file: 'service-account.yaml',
      from: 'automountServiceAccountToken: false\n',
      to: 'automountServiceAccountToken: false\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: sandbox-view\n  namespace: kars-example\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n  - kind: Group\n    name: system:serviceaccounts\n',
    }],
    run: canReadB,
    refused: false,
    succeeded: true,
  },
  {
    name: "A's service accounts cannot read any namespace (a cluster-wide binding)",
    rule: 'RBAC',
    extra: [bindingFor('ClusterRoleBinding', undefined, [{ kind: 'Group', name: `system:serviceaccounts:${A}` }])],
    run: canReadB,
    refused: false,
    succeeded: true,
  },
];

describe('T1-E cluster: every attack from sandbox A is refused by the rendered manifests', () => {
  const c = cluster();

  it.each(ATTACKS)('$name', ({ run, refused }) => {
    expect(run(c)).toEqual(refused);
  });

  it('the static isolation policy reports nothing, and the cluster ranges it protects come from aks.bicep', () => {
    expect(isolationViolations(c, ctx)).toEqual([]);
    expect(ctx.internalCidrs.slice(0, 2)).toEqual(['10.244.0.0/16', '10.0.0.0/16']);
    // Every internal range lies inside one excepted private range of the HTTPS egress rule.
    for (const internal of ctx.internalCidrs) expect(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].some((r) => covers(r, internal)), internal).toBe(true);
  });

  it('what the router needs still works: DNS to kube-dns, HTTPS to public endpoints; IMDS, other ports and ingress do not', () => {
    expect(connect(c, { from: podA, to: kubeDns, port: 53, protocol: 'UDP' })).toBe(true);
    expect(connect(c, { from: podA, to: kubeDns, port: 53, protocol: 'TCP' })).toBe(true);
    expect(connect(c, { from: podA, to: publicService, port: 443 })).toBe(true);
    expect(connect(c, { from: podA, to: publicService, port: 80 })).toBe(false);
    expect(connect(c, { from: podA, to: { ip: '169.254.169.254' }, port: 443 })).toBe(false);
    expect(connect(c, { from: podA, to: { ...kubeDns, labels: { 'k8s-app': 'metrics-server' } }, port: 443 })).toBe(false);
    expect(connect(c, { from: kubeDns, to: podA, port: 8443 })).toBe(false);
  });
});

describe('T1-E cluster: with the control removed the attack gets through, and the static policy flags it', () => {
  it.each(ATTACKS)('$name → $rule', ({ run, edits, extra, succeeded, rule }) => {
    const c = cluster(edits ?? [], extra ?? []);
    expect(run(c)).toEqual(succeeded);
    expect(flagged(c)).toContain(rule);
  });

  it('A → B needs both controls gone: either one alone still refuses it', () => {
    expect(connect(cluster([DROP_PRIVATE_EXCEPTS]), { from: podA, to: podB, port: 443 })).toBe(false);
    expect(connect(cluster([DROP_DEFAULT_DENY]), { from: podA, to: podB, port: 443 })).toBe(false);
  });

  it('the namespace-level default service account is what closes the gap: without its manifest Kubernetes mounts a token', () => {
    const c = cluster([{ file: 'default-service-account.yaml', from: template('default-service-account.yaml'), to: '# removed\n' }]);
    expect(c.podGetsApiToken(A, { containers: [{ name: 'x', image: 'x' }] })).toBe(true);
    expect(flagged(c)).toContain('API_TOKEN');
  });
});

// --- Entra side: the router identity every sandbox's router exchanges its token for -----------------------------------

const bicep = readBicepSources();
const bicepCtx = policyContext();
const ROUTER_MUTATIONS: Array<{ name: string; edits: SourceEdit[] }> = [
  {
    name: 'the router identity reads Key Vault (every tenant\'s hook secrets)',
    edits: [{ file: 'main.bicep', from: '    secretReaderPrincipalIds: [\n      identities.outputs.functionPrincipalId\n', to: '    secretReaderPrincipalIds: [\n      identities.outputs.functionPrincipalId\n      identities.outputs.routerPrincipalId\n' }],
  },
  {
    name: 'the router identity gets a Kubernetes role through Azure RBAC for Kubernetes',
    edits: [{
      file: 'modules/aks.bicep',
      from: 'output clusterName string',
      to: "resource routerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n  name: guid(cluster.id, routerIdentity.id, 'reader')\n  scope: cluster\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f6c6a51-bcf8-42ba-9220-52d62157d7db')\n    principalId: routerIdentity.properties.principalId\n    principalType: 'ServicePrincipal'\n  }\n}\n\noutput clusterName string",
    }],
  },
];

describe('T1-E cluster: a sandbox cannot be placed beside the cluster components', () => {
  // A sandbox in kars-system would share a namespace with the egress guard and seccomp installer DaemonSets: the
  // per-namespace default deny would no longer stand between them.
  it('every namespace a cluster component runs in is refused as a sandbox namespace; a kars-<name> one renders', () => {
    const systemNamespaces = new Set(clusterManifests().map((m) => (m.metadata as Obj | undefined)?.namespace as string | undefined).filter((n): n is string => n !== undefined));
    expect(systemNamespaces).toContain('kars-system');
    for (const ns of systemNamespaces) expect(() => renderSandboxManifests(ns), ns).toThrow(/reserved|must/);
    expect(() => renderSandboxManifests('kars-tenant-a')).not.toThrow();
  });
});

describe('T1-E identity: the shared router identity can only receive edge deliveries and call the model', () => {
  it('the committed Bicep passes ROUTER_ROLES and federates exactly <namespace>:kars-router of each sandbox namespace', () => {
    expect(checkBicepSources(bicep, bicepCtx).filter((v) => v.rule === 'ROUTER_ROLES' || v.rule === 'AKS_WORKLOAD_IDENTITY')).toEqual([]);
    const main = parseBicep(bicep.get('bicep/main.bicep')!, 'bicep/main.bicep');
    const namespaces = literal(main.params.get('sandboxNamespaces')!.defaultValue) as string[];
    // Every federated namespace is one the renderer accepts (kars-<name>, not kars-system).
    for (const ns of namespaces) expect(() => renderSandboxManifests(ns)).not.toThrow();
  });

  it.each(ROUTER_MUTATIONS)('$name → ROUTER_ROLES', ({ edits }) => {
    expect(checkBicepSources(mutateSources(bicep, edits), bicepCtx).map((v) => v.rule)).toContain('ROUTER_ROLES');
  });
});
