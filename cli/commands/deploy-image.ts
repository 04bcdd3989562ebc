// The router image step of `kars deploy` and bicep/deploy.sh (residual risk 1): after the deployment, read the registry
// from its outputs, build sandbox-node/router/Dockerfile with ACR Tasks on the registry's in-VNet agent pool (the
// registry has no public network access, so nothing is pushed from this machine), and print the image by digest for the
// sandbox manifests (infra/k8s/render-sandbox-main.ts --router-image).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROUTER_DOCKERFILE = 'sandbox-node/router/Dockerfile';
export const ROUTER_REPOSITORY = 'kars/router';
/** The digest the Dockerfile ships with until an operator pins its base images (docs/router.md, "Image"). */
export const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface ImagePlan {
  resourceGroup: string;
  deploymentName: string;
  /** Build context: the package root (holds package.json and the Dockerfile at ROUTER_DOCKERFILE). */
  source: string;
  tag: string;
}

/** Why the image cannot be built from `source`, or undefined when it can. */
export function imageSourceProblem(source: string): string | undefined {
  const dockerfile = join(source, ROUTER_DOCKERFILE);
  if (!existsSync(dockerfile) || !existsSync(join(source, 'package.json'))) return `${source} has no ${ROUTER_DOCKERFILE} and package.json`;
  if (readFileSync(dockerfile, 'utf8').includes(PLACEHOLDER_DIGEST)) {
    return `${ROUTER_DOCKERFILE} still carries the placeholder base image digest; pin the base images (docs/router.md, "Image") or pass --skip-image`;
  }
  return undefined;
}

/** UTC yyyymmdd-HHMMSS: a fresh tag per build (bicep/deploy.sh prints the same format). */
export function defaultImageTag(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/** The az argument lists of the image step, in order (bicep/deploy.sh runs the same). */
export function imageCommands(plan: ImagePlan, registry = '<registry>', agentPool = '<pool>'): {
  outputs: string[];
  build: string[];
  digest: string[];
} {
  const image = `${ROUTER_REPOSITORY}:${plan.tag}`;
  return {
    outputs: ['deployment', 'group', 'show', '--resource-group', plan.resourceGroup, '--name', plan.deploymentName,
      '--query', '[properties.outputs.registryName.value, properties.outputs.registryLoginServer.value, properties.outputs.registryBuildAgentPool.value]',
      '--output', 'tsv'],
    build: ['acr', 'build', '--registry', registry, '--resource-group', plan.resourceGroup, '--agent-pool', agentPool,
      '--image', image, '--file', ROUTER_DOCKERFILE, '--platform', 'linux/amd64', plan.source],
    // The runs API is Azure Resource Manager (the registry's data plane is private): the digest of this tag's build.
    digest: ['acr', 'task', 'list-runs', '--registry', registry, '--resource-group', plan.resourceGroup, '--run-status', 'Succeeded',
      '--top', '20', '--query', `[?outputImages[?repository=='${ROUTER_REPOSITORY}' && tag=='${plan.tag}']] | [0].outputImages[0].digest`, '--output', 'tsv'],
  };
}

/** `<login server>/kars/router@sha256:…`, or undefined when the pieces are malformed. */
export function routerImageRef(loginServer: string, digest: string): string | undefined {
  if (!/^[a-z0-9]{5,50}\.azurecr\.[a-z.]+$/.test(loginServer) || !/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  return `${loginServer}/${ROUTER_REPOSITORY}@${digest}`;
}
