// T1-E: what a cluster made of the rendered sandbox namespaces and the cluster-level manifests of infra/k8s allows,
// by the Kubernetes semantics of NetworkPolicy (with Calico's reading of ipBlock: it matches pod IPs too), service
// account token mounting and RBAC bindings; plus a static isolation policy over the same manifests. No cluster runs
// here: this is what the manifests tell Kubernetes to do.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Obj = Record<string, any>;

export const K8S_ROOT = join(__dirname, '../../../infra/k8s');

/** Parses multi-document YAML; fails on any parse error. */
export function parseManifests(text: string, where = '<yaml>'): Obj[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length) throw new Error(`${where}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS() as Obj).filter((d) => d && typeof d === 'object');
}

/** Every manifest under infra/k8s outside the per-sandbox templates (cluster-wide components). */
export function clusterManifests(): Obj[] {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(n) ? [p] : [];
  });
  return walk(K8S_ROOT).filter((p) => !relative(K8S_ROOT, p).startsWith('sandbox'))
    .flatMap((p) => parseManifests(readFileSync(p, 'utf8'), relative(K8S_ROOT, p)));
}

// --- label selectors ------------------------------------------------------------------------------------------------

export function selects(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const val = labels[e.key];
    switch (e.operator) {
      case 'In': if (!has || !e.values.includes(val)) return false; break;
      case 'NotIn': if (has && e.values.includes(val)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

// --- network --------------------------------------------------------------------------------------------------------

export interface Endpoint {
  /** Set for a pod in the cluster; unset for an address outside it. */
  namespace?: string;
  labels?: Record<string, string>;
  ip: string;
}

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export class Cluster {
  readonly namespaceLabels = new Map<string, Record<string, string>>();

  constructor(readonly docs: readonly Obj[]) {
    for (const ns of ['kube-system', 'default']) this.namespaceLabels.set(ns, { 'kubernetes.io/metadata.name': ns });
    for (const d of docs.filter((x) => x.kind === 'Namespace')) {
      this.namespaceLabels.set(d.metadata.name, { ...(d.metadata.labels ?? {}), 'kubernetes.io/metadata.name': d.metadata.name });
    }
  }

  private policies(namespace: string, labels: Record<string, string>, type: 'Ingress' | 'Egress'): Obj[] {
    return this.docs.filter((d) => d.kind === 'NetworkPolicy' && (d.metadata.namespace ?? 'default') === namespace
      && policyTypes(d).includes(type) && selects(d.spec?.podSelector, labels));
  }

  private peerMatches(peer: Obj, policyNamespace: string, other: Endpoint): boolean {
    if (peer.ipBlock) {
      return cidrContains(peer.ipBlock.cidr, other.ip) && !(peer.ipBlock.except ?? []).some((c: string) => cidrContains(c, other.ip));
    }
    if (other.namespace === undefined) return false; // selectors only select pods
    if (peer.namespaceSelector) {
      const nsLabels = this.namespaceLabels.get(other.namespace) ?? { 'kubernetes.io/metadata.name': other.namespace };
      return selects(peer.namespaceSelector, nsLabels) && selects(peer.podSelector, other.labels ?? {});
    }
    return other.namespace === policyNamespace && selects(peer.podSelector, other.labels ?? {});
  }

  private ruleAllows(rules: Obj[] | undefined, peerKey: 'to' | 'from', policyNamespace: string, other: Endpoint, c: Connection): boolean {
    return (rules ?? []).some((rule) => {
      const ports: Obj[] | undefined = rule.ports;
      const portOk = !ports || ports.length === 0 || ports.some((p) => (p.protocol ?? 'TCP') === (c.protocol ?? 'TCP')
        && (p.port === undefined || (p.endPort !== undefined ? c.port >= p.port && c.port <= p.endPort : p.port === c.port)));
      const peers: Obj[] | undefined = rule[peerKey];
      const peerOk = !peers || peers.length === 0 || peers.some((p) => this.peerMatches(p, policyNamespace, other));
      return portOk && peerOk;
    });
  }

  /** Allowed only if the source's egress and the destination's ingress (for a pod) both allow it. */
  allows(c: Connection): boolean {
    if (c.from.namespace !== undefined) {
      const egress = this.policies(c.from.namespace, c.from.labels ?? {}, 'Egress');
      if (egress.length > 0 && !egress.some((p) => this.ruleAllows(p.spec.egress, 'to', c.from.namespace!, c.to, c))) return false;
    }
    if (c.to.namespace !== undefined) {
      const ingress = this.policies(c.to.namespace, c.to.labels ?? {}, 'Ingress');
      if (ingress.length > 0 && !ingress.some((p) => this.ruleAllows(p.spec.ingress, 'from', c.to.namespace!, c.from, c))) return false;
    }
    return true;
  }

  // --- tokens and RBAC ----------------------------------------------------------------------------------------------

  /** Whether a pod spec in `namespace` gets a Kubernetes API token (automount, or a projected token for the API). */
  podGetsApiToken(namespace: string, pod: Obj): boolean {
    const saName = pod.serviceAccountName ?? 'default';
    const sa = this.docs.find((d) => d.kind === 'ServiceAccount' && d.metadata.name === saName && d.metadata.namespace === namespace);
    const automount = pod.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
    // A projected token without an audience is issued for the API server; api://AzureADTokenExchange is not accepted there.
    const projected = (pod.volumes ?? []).some((v: Obj) => (v.projected?.sources ?? []).some((s: Obj) => s.serviceAccountToken && !s.serviceAccountToken.audience));
    return automount !== false || projected;
  }

  /** Namespaces (or '*' for cluster-wide) where service account `namespace/name` is granted any RBAC role. */
  grantsOf(namespace: string, name: string): Array<{ scope: string; binding: string; role: string }> {
    const groups = new Set(['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated']);
    const matches = (s: Obj, bindingNamespace: string | undefined): boolean => {
      if (s.kind === 'ServiceAccount') return s.name === name && (s.namespace ?? bindingNamespace) === namespace;
      if (s.kind === 'Group') return groups.has(s.name);
      if (s.kind === 'User') return s.name === `system:serviceaccount:${namespace}:${name}`;
      return false;
    };
    return this.docs.filter((d) => (d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')
      && (d.subjects ?? []).some((s: Obj) => matches(s, d.metadata.namespace)))
      .map((d) => ({ scope: d.kind === 'ClusterRoleBinding' ? '*' : d.metadata.namespace, binding: `${d.kind}/${d.metadata.name}`, role: `${d.roleRef?.kind}/${d.roleRef?.name}` }));
  }
}

function policyTypes(np: Obj): string[] {
  return np.spec?.policyTypes ?? ['Ingress', ...(np.spec?.egress ? ['Egress'] : [])];
}

export function cidrContains(cidr: string, ip: string): boolean {
  return !ip.includes(':') && !cidr.includes(':') && covers(cidr, `${ip}/32`);
}

// --- static isolation policy ----------------------------------------------------------------------------------------

export interface IsolationContext {
  /** The sandbox namespaces of this cluster. */
  sandboxNamespaces: readonly string[];
  /** Cluster-internal ranges (pod, service, node/VNet) that sandbox egress must never allow. */
  internalCidrs: readonly string[];
}

export interface IsolationViolation {
  rule: 'NP_DEFAULT_DENY' | 'NP_CROSS_NAMESPACE' | 'API_TOKEN' | 'RBAC';
  namespace: string;
  message: string;
}

/**
 * Per sandbox namespace: a default-deny policy for every pod both ways; no ingress peer at all; egress peers only
 * kube-dns in kube-system or ipBlocks that except every internal range; every service account without an
 * automounted token; no RBAC binding for any of its service accounts (directly or through a group).
 */
export function isolationViolations(cluster: Cluster, ctx: IsolationContext): IsolationViolation[] {
  const out: IsolationViolation[] = [];
  for (const ns of ctx.sandboxNamespaces) {
    const v = (rule: IsolationViolation['rule'], message: string): void => {
      out.push({ rule, namespace: ns, message });
    };
    if (!cluster.namespaceLabels.has(ns)) v('NP_DEFAULT_DENY', `namespace ${ns} is not declared`);
    const nps = cluster.docs.filter((d) => d.kind === 'NetworkPolicy' && d.metadata.namespace === ns);
    const denyAll = nps.some((d) => Object.keys(d.spec?.podSelector ?? {}).length === 0
      && ['Ingress', 'Egress'].every((t) => policyTypes(d).includes(t)) && !(d.spec.ingress ?? []).length && !(d.spec.egress ?? []).length);
    if (!denyAll) v('NP_DEFAULT_DENY', 'no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)');
    for (const np of nps) {
      if ((np.spec.ingress ?? []).length > 0) v('NP_CROSS_NAMESPACE', `${np.metadata.name}: sandbox pods accept no ingress`);
      for (const rule of np.spec.egress ?? []) {
        if (!rule.to || rule.to.length === 0) {
          v('NP_CROSS_NAMESPACE', `${np.metadata.name}: an egress rule without "to" allows every destination`);
          continue;
        }
        for (const peer of rule.to) {
          if (peer.ipBlock) {
            for (const internal of ctx.internalCidrs) {
              if (overlaps(peer.ipBlock.cidr, internal) && !(peer.ipBlock.except ?? []).some((e: string) => covers(e, internal))) {
                v('NP_CROSS_NAMESPACE', `${np.metadata.name}: ipBlock ${peer.ipBlock.cidr} does not except the cluster range ${internal}`);
              }
            }
          } else {
            const dns = selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': 'kube-system' })
              && peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system'
              && peer.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns';
            if (!dns) v('NP_CROSS_NAMESPACE', `${np.metadata.name}: egress peer ${JSON.stringify(peer)} reaches pods other than kube-dns`);
          }
        }
      }
    }
    const sas = cluster.docs.filter((d) => d.kind === 'ServiceAccount' && d.metadata.namespace === ns);
    if (!sas.some((s) => s.metadata.name === 'default')) v('API_TOKEN', 'the default service account is not declared (Kubernetes creates it with token automount on)');
    for (const sa of sas) {
      if (sa.automountServiceAccountToken !== false) v('API_TOKEN', `service account ${sa.metadata.name} automounts its API token`);
      for (const g of cluster.grantsOf(ns, sa.metadata.name)) v('RBAC', `${sa.metadata.name} is granted ${g.role} by ${g.binding} (scope ${g.scope})`);
    }
    for (const d of cluster.docs.filter((x) => x.metadata?.namespace === ns && x.spec?.template?.spec)) {
      if (cluster.podGetsApiToken(ns, d.spec.template.spec)) v('API_TOKEN', `${d.kind} ${d.metadata.name}: its pods get a Kubernetes API token`);
    }
  }
  return out;
}

function range(cidr: string): [number, number] {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  const start = base!.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  const s = Math.floor(start / size) * size;
  return [s, s + size - 1];
}

/** `outer` contains all of `inner`. */
export function covers(outer: string, inner: string): boolean {
  const [a, b] = range(outer);
  const [c, d] = range(inner);
  return a <= c && d <= b;
}

function overlaps(x: string, y: string): boolean {
  const [a, b] = range(x);
  const [c, d] = range(y);
  return a <= d && c <= b;
}
