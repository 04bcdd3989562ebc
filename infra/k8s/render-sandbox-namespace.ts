// T1-E: renders one sandbox's manifests (its own namespace, service accounts without API tokens, default-deny
// NetworkPolicies, the pod) from the templates in infra/k8s/sandbox, for `kubectl apply -f -`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KarsError } from '../../core/errors';

/** The namespace the templates are written for; every occurrence is replaced. */
export const SANDBOX_TEMPLATE_NAMESPACE = 'kars-example';

/** Per-sandbox templates, in apply order (the namespace first). */
export const SANDBOX_TEMPLATE_FILES = [
  'namespace.yaml',
  'default-service-account.yaml',
  'service-account.yaml',
  'network-policy.yaml',
  'deployment.yaml',
] as const;

/**
 * `kars-<name>`, a DNS-1123 label of at most 63 characters. The kars-egress-guard CNI plugin guards namespaces with
 * this prefix, and the aks.bicep federated credentials name them.
 */
export const SANDBOX_NAMESPACE_PATTERN = /^kars-[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$/;

/** Namespaces of the cluster-wide kars components (privileged node DaemonSets): never a sandbox. */
export const RESERVED_NAMESPACES: readonly string[] = ['kars-system'];

export const SANDBOX_TEMPLATE_DIR = [join(__dirname, 'sandbox'), join(__dirname, '..', '..', '..', 'infra', 'k8s', 'sandbox')]
  .find((p) => existsSync(join(p, 'namespace.yaml'))) ?? join(__dirname, 'sandbox');

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLIENT_ID_ANNOTATION = /^(\s*azure\.workload\.identity\/client-id: )"0{8}-0{4}-0{4}-0{4}-0{12}"/m;
const CLIENT_ID_ENV = /(- name: AZURE_CLIENT_ID\n\s*value: )"0{8}-0{4}-0{4}-0{4}-0{12}"/;
const TENANT_ID_ENV = /(- name: AZURE_TENANT_ID\n\s*value: )"0{8}-0{4}-0{4}-0{4}-0{12}"/;
/** The router container's image line of deployment.yaml (the template's example reference). */
const ROUTER_IMAGE_LINE = /^(\s*image: )kars\.azurecr\.io\/kars\/router:[\w.-]+[ \t]*$/m;
/** What `kars deploy` prints: the deployed registry's router image, by digest only (a tag can be moved). */
export const ROUTER_IMAGE_PATTERN = /^[a-z0-9]{5,50}\.azurecr\.(io|cn|us)\/kars\/router@sha256:[0-9a-f]{64}$/;

export interface RenderSandboxOptions {
  /** Client id of the router identity (main.bicep output routerClientId): SA annotation and AZURE_CLIENT_ID. */
  routerClientId?: string;
  /** Entra tenant id (AZURE_TENANT_ID of the router). */
  tenantId?: string;
  /** The router image built by `kars deploy` (`<registry>.azurecr.io/kars/router@sha256:…`). */
  routerImage?: string;
  templateDir?: string;
}

/** The namespace of sandbox `sandboxId` (SANDBOX_ID_PATTERN of core/rollouts, at most 58 characters here). */
export function sandboxNamespaceFor(sandboxId: string): string {
  const ns = `kars-${sandboxId}`;
  checkNamespace(ns);
  return ns;
}

/**
 * Multi-document YAML with every template moved into `namespace`.
 * @throws KarsError INPUT_INVALID (bad namespace or id) | CONFIG_INVALID (a template no longer matches)
 */
export function renderSandboxManifests(namespace: string, options: RenderSandboxOptions = {}): string {
  checkNamespace(namespace);
  for (const [name, value] of [['routerClientId', options.routerClientId], ['tenantId', options.tenantId]] as const) {
    if (value !== undefined && !GUID.test(value)) throw new KarsError('INPUT_INVALID', `${name} must be a GUID`);
  }
  if (options.routerImage !== undefined && !ROUTER_IMAGE_PATTERN.test(options.routerImage)) {
    throw new KarsError('INPUT_INVALID', 'routerImage must be <registry>.azurecr.io/kars/router@sha256:<digest>');
  }
  const dir = options.templateDir ?? SANDBOX_TEMPLATE_DIR;
  const docs = SANDBOX_TEMPLATE_FILES.map((file) => {
    let text = readFileSync(join(dir, file), 'utf8');
    text = text.replace(/^(\s*namespace: )kars-example[ \t]*$/gm, `$1${namespace}`);
    if (file === 'namespace.yaml') text = text.replace(/^(  name: )kars-example[ \t]*$/m, `$1${namespace}`);
    // The router's events queue is the sandbox's own, `sbx-<sandbox id>` (T1-E).
    if (file === 'deployment.yaml') text = text.replace(/^(\s*value: sbx-)kars-example[ \t]*$/m, `$1${namespace}`);
    if (options.routerClientId) {
      text = text.replace(CLIENT_ID_ANNOTATION, `$1"${options.routerClientId}"`).replace(CLIENT_ID_ENV, `$1"${options.routerClientId}"`);
    }
    if (options.tenantId) text = text.replace(TENANT_ID_ENV, `$1"${options.tenantId}"`);
    if (options.routerImage && file === 'deployment.yaml') {
      if (!ROUTER_IMAGE_LINE.test(text)) throw new KarsError('CONFIG_INVALID', `${file}: router image line not found`);
      text = text.replace(ROUTER_IMAGE_LINE, `$1${options.routerImage}`);
    }
    // A template whose shape changed would otherwise leave an object in the example namespace, shared by everyone.
    if (namespace !== SANDBOX_TEMPLATE_NAMESPACE && text.includes(SANDBOX_TEMPLATE_NAMESPACE)) throw new KarsError('CONFIG_INVALID', `${file}: template namespace left after rendering`);
    if (options.routerClientId && (CLIENT_ID_ANNOTATION.test(text) || CLIENT_ID_ENV.test(text))) {
      throw new KarsError('CONFIG_INVALID', `${file}: placeholder client id left after rendering`);
    }
    return text.trimEnd();
  });
  return `${docs.join('\n---\n')}\n`;
}

function checkNamespace(ns: string): void {
  if (!SANDBOX_NAMESPACE_PATTERN.test(ns) || ns.length > 63) {
    throw new KarsError('INPUT_INVALID', 'sandbox namespace must be kars-<name>: lowercase letters, digits and hyphens, at most 63 characters');
  }
  if (RESERVED_NAMESPACES.includes(ns)) throw new KarsError('INPUT_INVALID', `${ns} is reserved for cluster components`);
}
