// Reads bicep/ and derives the policy context from the app itself (config keys, containers, queue, k8s manifests,
// host.json), so the Bicep is checked against what the code needs rather than against a copied list.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SETTING_KEYS } from '../../functions/config';
import { DEFAULT_EDGE_QUEUE } from '../../adapters/edge/bus-edge-queue';
import { OPERATOR_AUTH_SETTING_KEYS } from '../../functions/http/operator-auth-settings';
import { MESH_SETTING_KEYS } from '../../functions/mesh/mesh-settings';
import type { PolicyContext } from './bicep-policy';
import { routes } from '../../functions/routes';
import { isOperatorRoute } from '../../functions/http/guard-routes';

export const REPO_ROOT = join(__dirname, '..', '..');

/**
 * KARS_* settings config.ts knows that must not reach Azure: the Cosmos account key (config.ts refuses it in azure
 * mode), the Service Bus connection string and emulator switch (the local broker; Azure uses KARS_SERVICEBUS_NAMESPACE) and
 * the secrets file (KARS_SECRETS_SOURCE=file is a local shortcut; Azure reads Key Vault).
 */
export const LOCAL_ONLY_KARS_SETTINGS = ['KARS_COSMOS_KEY', 'KARS_SERVICEBUS_CONNECTION', 'KARS_SERVICEBUS_EMULATOR', 'KARS_SECRETS_FILE'] as const;

function walk(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...walk(path, keep));
    } else if (keep(path)) {
      out.push(path);
    }
  }
  return out.sort();
}

/** Every .bicep file under bicep/, keyed by repo-relative POSIX path. */
export function readBicepSources(): Map<string, string> {
  const files = walk(join(REPO_ROOT, 'bicep'), (p) => p.endsWith('.bicep'));
  return new Map(files.map((p) => [relative(REPO_ROOT, p).split(sep).join('/'), readFileSync(p, 'utf8')]));
}

export interface SourceEdit {
  /** Path under bicep/ ('modules/front-door.bicep', 'main.bicep'). */
  file: string;
  from: string;
  to: string;
}

/** A copy of `sources` with each edit applied once; throws when an edit does not apply (the case would pass vacuously). */
export function mutateSources(sources: ReadonlyMap<string, string>, edits: readonly SourceEdit[]): Map<string, string> {
  const copy = new Map(sources);
  for (const e of edits) {
    const path = `bicep/${e.file}`;
    const before = copy.get(path);
    if (before === undefined) throw new Error(`no source ${path}`);
    const after = before.replace(e.from, e.to);
    if (after === before) throw new Error(`mutation did not apply to ${path}: ${JSON.stringify(e.from)}`);
    copy.set(path, after);
  }
  return copy;
}

/** Cosmos containers the app declares as `[export] const X: CosmosContainerSpec = { id: '…', defaultTtlSec: … }`. */
export function appContainerSpecs(): Array<{ id: string; defaultTtlSec?: number; source: string }> {
  const out: Array<{ id: string; defaultTtlSec?: number; source: string }> = [];
  const sources = [...walk(join(REPO_ROOT, 'adapters'), (p) => p.endsWith('.ts')), ...walk(join(REPO_ROOT, 'functions'), (p) => p.endsWith('.ts'))];
  for (const path of sources) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/(?:export )?const \w+\s*:\s*CosmosContainerSpec\s*=\s*\{([^}]*)\}/g)) {
      const id = /\bid:\s*'([^']+)'/.exec(m[1]!)?.[1];
      const ttl = /\bdefaultTtlSec:\s*(-?\d+)/.exec(m[1]!)?.[1];
      if (id) out.push({ id, ...(ttl !== undefined ? { defaultTtlSec: Number(ttl) } : {}), source: relative(REPO_ROOT, path) });
    }
  }
  return out;
}

/** Keys local.settings.sample.json documents as DEV-ONLY: demo values that must never be deployed. */
export function devOnlySettings(): string[] {
  const sample = JSON.parse(readFileSync(join(REPO_ROOT, 'local.settings.sample.json'), 'utf8')) as { Comments: Record<string, string> };
  return Object.entries(sample.Comments).filter(([, c]) => c.startsWith('DEV-ONLY')).map(([k]) => k);
}

const MESH_OIDC_SETTINGS: readonly string[] = ['KARS_MESH_OIDC_ISSUER', 'KARS_MESH_OIDC_JWKS_URL'];

export function policyContext(): PolicyContext {
  const sa = parseYaml(readFileSync(join(REPO_ROOT, 'infra/k8s/sandbox/service-account.yaml'), 'utf8')) as { metadata: { name: string } };
  const deployment = parseYaml(readFileSync(join(REPO_ROOT, 'infra/k8s/sandbox/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { nodeSelector: Record<string, string>; tolerations: Array<{ key: string; value: string; effect: string }> } } };
  };
  const pod = deployment.spec.template.spec;
  const [label] = Object.entries(pod.nodeSelector);
  const toleration = pod.tolerations[0]!;
  const host = JSON.parse(readFileSync(join(REPO_ROOT, 'host.json'), 'utf8')) as { extensions: { durableTask: { hubName: string } } };
  return {
    // config.ts plus the operator-route settings (functions/http/operator-auth-settings.ts), which Azure mode needs, and
    // the mesh settings without a default (functions/mesh/mesh-settings.ts: the cluster's OIDC issuer and its JWKS).
    requiredKarsSettings: [...SETTING_KEYS, ...OPERATOR_AUTH_SETTING_KEYS, ...MESH_SETTING_KEYS.filter((k) => MESH_OIDC_SETTINGS.includes(k))].filter((k) => k.startsWith('KARS_') && !(LOCAL_ONLY_KARS_SETTINGS as readonly string[]).includes(k)),
    // A plain AzureWebJobsStorage is a connection string with the account key; Azure uses AzureWebJobsStorage__*.
    forbiddenSettings: [...new Set([...LOCAL_ONLY_KARS_SETTINGS, ...devOnlySettings(), 'AzureWebJobsStorage'])],
    edgeQueueName: DEFAULT_EDGE_QUEUE,
    containers: appContainerSpecs().map(({ id, defaultTtlSec }) => ({ id, ...(defaultTtlSec !== undefined ? { defaultTtlSec } : {}) })),
    routerServiceAccount: sa.metadata.name,
    sandboxNodeLabel: label!,
    sandboxTaint: `${toleration.key}=${toleration.value}:${toleration.effect}`,
    durableTaskHub: host.extensions.durableTask.hubName,
    // The console page is anonymous to the app but sits behind App Service Authentication like the operator routes.
    operatorRoutes: routes.filter((r) => isOperatorRoute(r) || r.behindSignIn).map((r) => r.route),
    anonymousRoutes: routes.filter((r) => !isOperatorRoute(r) && !r.behindSignIn).map((r) => r.route),
  };
}
