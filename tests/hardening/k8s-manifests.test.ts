// T2-E / T2-S / T2-I (cluster layer): the sandbox pod passes Pod Security "restricted" on every container, init
// containers included, plus the kars requirements PSS does not cover (read-only rootfs, kars-strict Localhost,
// UIDs 1000/1001, token only in the router, emptyDir /tmp); the node-side seccomp installer ships the same profile.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KARS_STRICT_LOCALHOST_PROFILE, KARS_STRICT_PROFILE_PATH } from '../../sandbox-node/hardening/seccomp-profile';
import { allContainers, restrictedViolations } from './pss-restricted';
import { DEFAULT_MESH_TOKEN_FILE } from '../../sandbox-node/router/router-trust-settings';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const ROOT = join(__dirname, '../../infra/k8s');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(n) ? [p] : [];
  });
}

function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS() as Obj).filter(Boolean);
}

const byKind = (docs: Obj[], kind: string, name?: string): Obj => {
  const found = docs.find((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''}`);
  return found;
};

const deployment = byKind(load('sandbox/deployment.yaml'), 'Deployment');
const podSpec: Obj = deployment.spec.template.spec;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('infra/k8s manifests parse', () => {
  it('every YAML document under infra/k8s parses and has apiVersion, kind and metadata.name', () => {
    const files = yamlFiles(ROOT);
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      for (const d of load(relative(ROOT, f))) {
        expect(d.apiVersion, f).toBeTruthy();
        expect(d.kind, f).toBeTruthy();
        expect(d.metadata?.name, f).toBeTruthy();
      }
    }
  });
});

describe('sandbox pod: Pod Security "restricted"', () => {
  it('has no violation on any container, init containers included', () => {
    expect(allContainers(podSpec).map((x) => x.c.name)).toEqual(['agent', 'router']);
    expect(restrictedViolations(podSpec)).toEqual([]);
  });

  it('the checker sees init containers, host access, missing seccomp and root (it can fail)', () => {
    const withInit = clone(podSpec);
    withInit.initContainers = [{ name: 'egress-guard', image: 'x', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }];
    const v = restrictedViolations(withInit);
    expect(v).toContain('initContainers[0](egress-guard): adds capability NET_ADMIN');
    expect(v).toContain('initContainers[0](egress-guard): allowPrivilegeEscalation must be false');
    expect(v).toContain('initContainers[0](egress-guard): capabilities.drop must include ALL');

    const hostPath = clone(podSpec);
    hostPath.volumes.push({ name: 'host', hostPath: { path: '/' } });
    hostPath.hostPID = true;
    expect(restrictedViolations(hostPath)).toEqual(['pod: hostPID', 'volume host: type hostPath']);

    const noSeccomp = clone(podSpec);
    delete noSeccomp.securityContext.seccompProfile;
    delete noSeccomp.containers[1].securityContext.seccompProfile;
    expect(restrictedViolations(noSeccomp)).toEqual(['containers[1](router): seccompProfile must be RuntimeDefault or Localhost']);

    const root = clone(podSpec);
    root.containers[0].securityContext.runAsUser = 0;
    expect(restrictedViolations(root)).toContain('containers[0](agent): runAsUser 0');
  });

  it('namespace enforces restricted and is marked as a sandbox namespace', () => {
    const ns = byKind(load('sandbox/namespace.yaml'), 'Namespace');
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns.metadata.labels['kars.azure.com/sandbox']).toBe('true');
    expect(deployment.metadata.namespace).toBe(ns.metadata.name);
  });
});

describe('sandbox pod: kars requirements beyond PSS', () => {
  const containers = allContainers(podSpec);
  const agent = podSpec.containers.find((c: Obj) => c.name === 'agent');
  const router = podSpec.containers.find((c: Obj) => c.name === 'router');

  it('every container: read-only root filesystem and kars-strict as a Localhost profile', () => {
    for (const { where, c } of containers) {
      expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
      const seccomp = c.securityContext?.seccompProfile ?? podSpec.securityContext.seccompProfile;
      expect(seccomp, where).toEqual({ type: 'Localhost', localhostProfile: KARS_STRICT_LOCALHOST_PROFILE });
    }
  });

  it('agent runs as 1000:1000 and router as 1001:1001', () => {
    expect([agent.securityContext.runAsUser, agent.securityContext.runAsGroup]).toEqual([1000, 1000]);
    expect([router.securityContext.runAsUser, router.securityContext.runAsGroup]).toEqual([1001, 1001]);
    expect(podSpec.securityContext.fsGroup).toBeUndefined(); // would add a shared group to the agent
    expect(podSpec.securityContext.supplementalGroups).toBeUndefined();
    expect(podSpec.shareProcessNamespace).toBe(false);
  });

  it('no Kubernetes API token anywhere; the workload-identity, audit and mesh tokens are projected into the router only', () => {
    expect(podSpec.automountServiceAccountToken).toBe(false);
    const tokenVolumes = podSpec.volumes.filter((v: Obj) => v.projected?.sources?.some((s: Obj) => s.serviceAccountToken));
    expect(tokenVolumes.map((v: Obj) => v.name)).toEqual(['azure-identity-token', 'kars-audit-token', 'kars-mesh-token']);
    // Each for one audience only (never the API server's): Entra's token exchange, the app's router-receipt route, and
    // the app's mesh routes (T4-S).
    expect(tokenVolumes.map((v: Obj) => v.projected.sources[0].serviceAccountToken.audience)).toEqual(['api://AzureADTokenExchange', 'kars-audit', 'kars-mesh']);
    for (const v of tokenVolumes) expect(v.projected.sources[0].serviceAccountToken.expirationSeconds).toBeLessThanOrEqual(3600);
    const mountsOf = (c: Obj): string[] => (c.volumeMounts ?? []).map((m: Obj) => m.name);
    expect(mountsOf(router)).toEqual(expect.arrayContaining(['azure-identity-token', 'kars-audit-token', 'kars-mesh-token', 'kars-sandbox-key']));
    for (const name of ['azure-identity-token', 'kars-audit-token', 'kars-mesh-token', 'kars-sandbox-key']) expect(mountsOf(agent)).not.toContain(name);
    for (const c of podSpec.containers) {
      const envNames = (c.env ?? []).map((e: Obj) => e.name);
      if (c.name !== 'router') expect(envNames).not.toContain('AZURE_FEDERATED_TOKEN_FILE');
    }
    const sa = byKind(load('sandbox/service-account.yaml'), 'ServiceAccount');
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(podSpec.serviceAccountName).toBe(sa.metadata.name);
  });

  it('each container has its own emptyDir /tmp; the agent also gets /sandbox; nothing is shared with the router', () => {
    const vol = (name: string): Obj => podSpec.volumes.find((v: Obj) => v.name === name);
    for (const c of podSpec.containers) {
      const tmp = c.volumeMounts.find((m: Obj) => m.mountPath === '/tmp');
      expect(tmp, c.name).toBeDefined();
      expect(vol(tmp.name).emptyDir, c.name).toBeDefined();
    }
    const agentVols = new Set(agent.volumeMounts.map((m: Obj) => m.name));
    expect(agent.volumeMounts.find((m: Obj) => m.mountPath === '/sandbox')).toBeDefined();
    for (const m of router.volumeMounts) expect(agentVols.has(m.name), m.name).toBe(false);
  });

  it('the router\'s mesh and events settings point at its own mounts (T4-S, T1-E)', () => {
    const env = (name: string): string => router.env.find((e: Obj) => e.name === name)?.value;
    const mountOf = (volume: string): string => router.volumeMounts.find((m: Obj) => m.name === volume)?.mountPath;
    const vol = (name: string): Obj => podSpec.volumes.find((v: Obj) => v.name === name);
    const meshToken = vol('kars-mesh-token').projected.sources[0].serviceAccountToken;
    expect(env('KARS_MESH_ROUTER_TOKEN_FILE')).toBe(`${mountOf('kars-mesh-token')}/${meshToken.path}`);
    expect(meshToken.expirationSeconds).toBe(3600);
    const key = vol('kars-sandbox-key').secret;
    expect(env('KARS_MESH_SANDBOX_KEY_FILE')).toBe(`${mountOf('kars-sandbox-key')}/${key.items[0].path}`);
    expect(router.volumeMounts.find((m: Obj) => m.name === 'kars-sandbox-key').readOnly).toBe(true);
    expect(env('KARS_MESH_BINDING_FILE').startsWith(`${mountOf('router-state')}/`)).toBe(true);
    expect(env('KARS_MESH_FUNCTIONS_URL')).toMatch(/^https:\/\/.+\/api$/);
    // RR2: the KNOCK gate reads live trust from the same app with the same kars-mesh token (the source's default file).
    expect(env('KARS_ROUTER_TRUST_API')).toBe(env('KARS_MESH_FUNCTIONS_URL'));
    expect(env('KARS_ROUTER_MESH_TOKEN_FILE') ?? DEFAULT_MESH_TOKEN_FILE).toBe(env('KARS_MESH_ROUTER_TOKEN_FILE'));
    expect(env('KARS_MESH_SERVICEBUS_NAMESPACE')).toBe(env('KARS_SERVICEBUS_NAMESPACE'));
    // The sandbox's own events queue: sbx-<sandbox id>, the sandbox id being the namespace.
    expect(env('KARS_ROUTER_EVENTS_ENTITY')).toBe(`sbx-${deployment.metadata.namespace}`);
  });

  it('the agent starts through kars-jail with the writable set and router port that match the pod', () => {
    const cmd: string[] = agent.command;
    expect(cmd[0]).toBe('/usr/local/bin/kars-jail');
    const flag = (f: string): string[] => cmd.flatMap((x, i) => (x === f ? [cmd[i + 1]!] : []));
    expect(flag('--seccomp')).toHaveLength(1);
    expect(flag('--rw').sort()).toEqual(['/sandbox', '/tmp']);
    expect(flag('--connect-tcp')).toEqual(['8443']);
    expect(flag('--uid')).toEqual(['1000']);
    expect(flag('--landlock')).toEqual(['required']);
    expect(flag('--egress-check')).toEqual(['192.0.2.1:9']); // fail closed without the node-side egress guard
    expect(cmd.indexOf('--')).toBeGreaterThan(0);
    const listen = router.env.find((e: Obj) => e.name === 'KARS_ROUTER_LISTEN').value;
    expect(listen).toBe('127.0.0.1:8443');
  });
});

describe('node-side seccomp installation and default-deny NetworkPolicy', () => {
  const installerDocs = [...load('seccomp-installer/configmap.yaml'), ...load('seccomp-installer/daemonset.yaml'),
    ...load('seccomp-installer/namespace.yaml')];

  it('the egress-guard CNI installer runs on the sandbox pool with only the two CNI host directories', () => {
    const ds = byKind(load('egress-guard/daemonset.yaml'), 'DaemonSet');
    const spec: Obj = ds.spec.template.spec;
    expect(ds.metadata.namespace).toBe('kars-system');
    expect(spec.nodeSelector).toEqual(podSpec.nodeSelector);
    expect(spec.volumes.map((v: Obj) => v.hostPath?.path).sort()).toEqual(['/etc/cni/net.d', '/opt/cni/bin']);
    expect(restrictedViolations(spec)).toEqual([
      'volume cni-bin: type hostPath',
      'volume cni-conf: type hostPath',
      'containers[0](install): runAsNonRoot must be true (pod or container)',
      'containers[0](install): runAsUser 0',
    ]);
    expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('the ConfigMap carries kars-strict.json byte for byte', () => {
    const cm = byKind(installerDocs, 'ConfigMap');
    expect(cm.data['kars-strict.json']).toBe(readFileSync(KARS_STRICT_PROFILE_PATH, 'utf8'));
  });

  it('the DaemonSet writes it where localhostProfile points, with no capability and a read-only rootfs', () => {
    const ds = byKind(installerDocs, 'DaemonSet');
    const spec: Obj = ds.spec.template.spec;
    const host = spec.volumes.find((v: Obj) => v.hostPath);
    expect(`${host.hostPath.path}/kars-strict.json`).toBe(`/var/lib/kubelet/seccomp/${KARS_STRICT_LOCALHOST_PROFILE}`);
    expect(spec.volumes.filter((v: Obj) => v.hostPath)).toHaveLength(1);
    expect(spec.nodeSelector).toEqual(podSpec.nodeSelector);
    // Only the hostPath and the root UID separate it from "restricted"; everything else is as tight.
    expect(restrictedViolations(spec)).toEqual([
      'volume host-seccomp: type hostPath',
      'containers[0](install): runAsNonRoot must be true (pod or container)',
      'containers[0](install): runAsUser 0',
    ]);
    for (const { c } of allContainers(spec)) expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    const ns = byKind(installerDocs, 'Namespace');
    expect(ds.metadata.namespace).toBe(ns.metadata.name);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('default-deny covers every pod in both directions, and no egress rule is unrestricted', () => {
    const nps = load('sandbox/network-policy.yaml');
    const deny = byKind(nps, 'NetworkPolicy', 'default-deny-all');
    expect(deny.spec.podSelector).toEqual({});
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
    for (const np of nps) {
      expect(np.spec.ingress ?? []).toEqual([]);
      for (const e of np.spec.egress ?? []) {
        expect(e.to?.length).toBeGreaterThan(0);
        expect(e.ports?.length).toBeGreaterThan(0);
      }
    }
    expect(byKind(nps, 'NetworkPolicy', 'sandbox-egress').spec.podSelector.matchLabels['app.kubernetes.io/name'])
      .toBe(deployment.spec.template.metadata.labels['app.kubernetes.io/name']);
  });
});
