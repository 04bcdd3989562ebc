// The per-sandbox renderer (T1-E): every object lands in the sandbox's own namespace, ids are filled in, and names that
// would collide with cluster components or break Kubernetes naming are refused before anything is printed.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isKarsError } from '../../../core/errors';
import { SANDBOX_ID_PATTERN } from '../../../core/rollouts/plan-rollout';
import { renderSandboxCli } from '../../../infra/k8s/render-sandbox-main';
import {
  renderSandboxManifests, SANDBOX_TEMPLATE_DIR, SANDBOX_TEMPLATE_FILES, SANDBOX_TEMPLATE_NAMESPACE, sandboxNamespaceFor,
} from '../../../infra/k8s/render-sandbox-namespace';
import { parseManifests } from './namespace-isolation';
import type { Obj } from './namespace-isolation';

const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const TENANT_ID = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const scratch = mkdtempSync(join(tmpdir(), 'kars-render-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isKarsError(e) ? e.code : `not a KarsError: ${String(e)}`;
  }
}

describe('renderSandboxManifests', () => {
  const docs = parseManifests(renderSandboxManifests('kars-acme', { routerClientId: CLIENT_ID, tenantId: TENANT_ID }));

  it('renders every template, namespace first, and places every object in the sandbox namespace', () => {
    const templateDocs = SANDBOX_TEMPLATE_FILES.flatMap((f) => parseManifests(readFileSync(join(SANDBOX_TEMPLATE_DIR, f), 'utf8'), f));
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(templateDocs.map((d) => `${d.kind}/${d.metadata.name === SANDBOX_TEMPLATE_NAMESPACE ? 'kars-acme' : d.metadata.name}`));
    expect(docs[0]!.kind).toBe('Namespace');
    expect(docs[0]!.metadata.name).toBe('kars-acme');
    expect(docs[0]!.metadata.labels['kars.azure.com/sandbox']).toBe('true');
    for (const d of docs.slice(1)) expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe('kars-acme');
    expect(JSON.stringify(docs)).not.toContain(SANDBOX_TEMPLATE_NAMESPACE);
  });

  it('fills the router identity into the service account annotation and the router environment', () => {
    const sa = docs.find((d) => d.kind === 'ServiceAccount' && d.metadata.name === 'kars-router')!;
    expect(sa.metadata.annotations['azure.workload.identity/client-id']).toBe(CLIENT_ID);
    const router = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers.find((c: Obj) => c.name === 'router');
    const env = Object.fromEntries(router.env.map((e: Obj) => [e.name, e.value]));
    expect([env.AZURE_CLIENT_ID, env.AZURE_TENANT_ID]).toEqual([CLIENT_ID, TENANT_ID]);
    // T1-E: the router reads the sandbox's own events queue, never the template's.
    expect(env.KARS_ROUTER_EVENTS_ENTITY).toBe('sbx-kars-acme');
  });

  it('two sandboxes share no namespaced object', () => {
    const other = parseManifests(renderSandboxManifests('kars-globex'));
    const key = (d: Obj): string => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
    const mine = new Set(docs.map(key));
    expect(other.filter((d) => mine.has(key(d)))).toEqual([]);
  });

  it('maps a rollout sandbox id to its namespace, within the 63-character label limit', () => {
    expect(sandboxNamespaceFor('acme')).toBe('kars-acme');
    const longest = 'a'.repeat(58);
    expect(SANDBOX_ID_PATTERN.test(longest)).toBe(true);
    expect(sandboxNamespaceFor(longest)).toHaveLength(63);
    expect(codeOf(() => sandboxNamespaceFor('a'.repeat(59)))).toBe('INPUT_INVALID');
  });

  it.each([
    ['kars-system', 'the privileged namespace of the node DaemonSets'],
    ['acme', 'no kars- prefix (the egress-guard CNI plugin guards kars-* only)'],
    ['kars-Acme', 'not a DNS label'],
    ['kars-acme-', 'ends with a hyphen'],
    ['kars-a/../b', 'path characters'],
    ['kars-acme\nnamespace: default', 'YAML injection'],
  ])('refuses %j (%s)', (ns) => {
    expect(codeOf(() => renderSandboxManifests(ns))).toBe('INPUT_INVALID');
  });

  it('sets the router image kars deploy built (by digest), and only the router\'s', () => {
    const image = `karsacrx1y2z3.azurecr.io/kars/router@sha256:${'c'.repeat(64)}`;
    const rendered = parseManifests(renderSandboxManifests('kars-acme', { routerImage: image }));
    const containers = rendered.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers as Obj[];
    expect(containers.find((c) => c.name === 'router')!.image).toBe(image);
    expect(containers.find((c) => c.name === 'agent')!.image).toBe('kars.azurecr.io/kars/agent:0.1.0');
    for (const bad of [`karsacrx1y2z3.azurecr.io/kars/router:latest`, `evil.example/kars/router@sha256:${'c'.repeat(64)}`,
      `karsacrx1y2z3.azurecr.io/kars/agent@sha256:${'c'.repeat(64)}`, `${image}\n        command: [sh]`]) {
      expect(codeOf(() => renderSandboxManifests('kars-acme', { routerImage: bad })), bad).toBe('INPUT_INVALID');
    }
  });

  it('refuses ids that are not GUIDs (they are written into YAML)', () => {
    expect(codeOf(() => renderSandboxManifests('kars-acme', { routerClientId: 'x"\nkind: ClusterRoleBinding' }))).toBe('INPUT_INVALID');
    expect(codeOf(() => renderSandboxManifests('kars-acme', { tenantId: 'tenant' }))).toBe('INPUT_INVALID');
  });

  it('fails closed when a template changed shape and an object would stay in the shared example namespace', () => {
    const dir = mkdtempSync(join(scratch, 'tpl-'));
    for (const f of SANDBOX_TEMPLATE_FILES) copyFileSync(join(SANDBOX_TEMPLATE_DIR, f), join(dir, f));
    const np = join(dir, 'network-policy.yaml');
    writeFileSync(np, readFileSync(np, 'utf8').replace('  namespace: kars-example\n', '  namespace: "kars-example"\n'));
    expect(codeOf(() => renderSandboxManifests('kars-acme', { templateDir: dir }))).toBe('CONFIG_INVALID');
  });
});

describe('render-sandbox-main', () => {
  function run(argv: string[]): { code: number; stdout: string; stderr: string } {
    let stdout = '';
    let stderr = '';
    const code = renderSandboxCli(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
    return { code, stdout, stderr };
  }

  it('prints the manifests and exits 0', () => {
    const r = run(['kars-acme', '--router-client-id', CLIENT_ID]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(renderSandboxManifests('kars-acme', { routerClientId: CLIENT_ID }));
  });

  it('takes the router image kars deploy printed, and refuses one that is not by digest', () => {
    const image = `karsacrx1y2z3.azurecr.io/kars/router@sha256:${'c'.repeat(64)}`;
    const r = run(['kars-acme', '--router-image', image]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`image: ${image}`);
    expect(run(['kars-acme', '--router-image', 'karsacrx1y2z3.azurecr.io/kars/router:latest']).code).toBe(2);
  });

  it('exits 2 with usage on a bad namespace, a missing value or an unknown flag, without echoing the argument', () => {
    expect(run([]).code).toBe(2);
    expect(run(['kars-system']).code).toBe(2);
    expect(run(['kars-acme', '--router-client-id']).code).toBe(2);
    const r = run(['kars-acme', '--token=s3cr3t-canary']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^usage:/);
    expect(r.stderr).not.toContain('s3cr3t-canary');
  });
});
