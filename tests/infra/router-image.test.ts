// The router image (sandbox-node/router/Dockerfile) holds its promises on the committed files, and each check fails on
// a mutated copy: named stages, bases pinned by tag + digest, numeric UID 1001 matching the pod, no package manager
// reachable in the final stage, no credential in ARG/ENV, a HEALTHCHECK or its reason, the pod runs what the image holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { baseImages, checkRouterImage, parseDockerfile } from './dockerfile-policy';
import type { ImagePolicyInput } from './dockerfile-policy';

const REPO = join(__dirname, '..', '..');
const read = (p: string): string => readFileSync(join(REPO, p), 'utf8');

interface K8sContainer {
  name: string;
  command: string[];
  securityContext: { runAsUser: number; runAsGroup: number; readOnlyRootFilesystem: boolean };
}

function committed(): ImagePolicyInput {
  const deployment = parseYaml(read('infra/k8s/sandbox/deployment.yaml')) as { spec: { template: { spec: { containers: K8sContainer[] } } } };
  const router = deployment.spec.template.spec.containers.find((c) => c.name === 'router')!;
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
  return {
    dockerfile: read('sandbox-node/router/Dockerfile'),
    dockerignore: read('.dockerignore'),
    router: { command: router.command, ...router.securityContext },
    dependencies: Object.keys(pkg.dependencies),
    entry: 'dist/sandbox-node/router/main.js',
  };
}

const rules = (input: ImagePolicyInput): string[] => [...new Set(checkRouterImage(input).map((x) => x.rule))];

/** The committed Dockerfile with one edit; throws when the edit does not apply (the case would pass vacuously). */
function dockerfileWith(from: string | RegExp, to: string): ImagePolicyInput {
  const base = committed();
  const after = base.dockerfile.replace(from, to);
  if (after === base.dockerfile) throw new Error(`mutation did not apply: ${String(from)}`);
  return { ...base, dockerfile: after };
}

describe('router image on the committed files', () => {
  it('has no violations', () => {
    expect(checkRouterImage(committed())).toEqual([]);
  });

  it('is a named build stage and a distroless final stage, user 1001:1001, entry the pod names', () => {
    const parsed = parseDockerfile(committed().dockerfile);
    expect(parsed.stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    const images = baseImages(parsed);
    expect(images.map((b) => b.image?.replace(/@sha256:.*/, ''))).toEqual(['node:20-bookworm-slim', 'gcr.io/distroless/nodejs20-debian12:nonroot']);
    expect(parsed.stages[1]!.instructions.filter((x) => x.keyword === 'USER').map((x) => x.args)).toEqual(['1001:1001']);
    expect(committed().router).toEqual(expect.objectContaining({ runAsUser: 1001, runAsGroup: 1001, readOnlyRootFilesystem: true }));
  });

  it('reports which base digests are still the documented placeholder', () => {
    // The deploy refuses to build while any is (cli/commands/deploy-image.ts); see docs/router.md, "Image".
    const images = baseImages(parseDockerfile(committed().dockerfile));
    expect(images.every((b) => /@sha256:[0-9a-f]{64}$/.test(b.image ?? ''))).toBe(true);
    const pinned = baseImages(parseDockerfile(committed().dockerfile.replaceAll('0'.repeat(64), 'ab'.repeat(32))));
    expect(pinned.some((b) => b.placeholder)).toBe(false);
  });
});

const MUTATIONS: ReadonlyArray<{ name: string; rule: string; input: () => ImagePolicyInput }> = [
  { name: 'unnamed build stage', rule: 'STAGES', input: () => dockerfileWith('FROM ${BUILDER_IMAGE} AS build', 'FROM ${BUILDER_IMAGE}') },
  { name: 'single stage', rule: 'STAGES', input: () => dockerfileWith(/FROM \$\{RUNTIME_IMAGE\} AS runtime[\s\S]*$/, 'USER 1001:1001\nCMD ["dist/sandbox-node/router/main.js"]\n') },
  { name: 'builder by tag only', rule: 'BASE_PINNED', input: () => dockerfileWith(/node:20-bookworm-slim@sha256:[0-9a-f]{64}/, 'node:20-bookworm-slim') },
  { name: 'runtime by digest only', rule: 'BASE_PINNED', input: () => dockerfileWith(/gcr\.io\/distroless\/nodejs20-debian12:nonroot@/, 'gcr.io/distroless/nodejs20-debian12@') },
  { name: 'runtime :latest', rule: 'BASE_PINNED', input: () => dockerfileWith(/gcr\.io\/distroless\/nodejs20-debian12:nonroot@sha256:[0-9a-f]{64}/, 'gcr.io/distroless/nodejs20-debian12:latest') },
  { name: 'base from an ARG without default', rule: 'BASE_PINNED', input: () => dockerfileWith(/ARG RUNTIME_IMAGE=\S+/, 'ARG RUNTIME_IMAGE') },
  { name: 'placeholder undocumented', rule: 'BASE_PINNED', input: () => dockerfileWith(/# Base images are pinned[\s\S]*?(?=ARG BUILDER_IMAGE)/, '') },
  { name: 'no USER', rule: 'FINAL_USER', input: () => dockerfileWith('USER 1001:1001\n', '') },
  { name: 'user by name', rule: 'FINAL_USER', input: () => dockerfileWith('USER 1001:1001', 'USER nonroot') },
  { name: 'root', rule: 'FINAL_USER', input: () => dockerfileWith('USER 1001:1001', 'USER 0:0') },
  { name: 'distroless default nonroot UID', rule: 'FINAL_USER', input: () => dockerfileWith('USER 1001:1001', 'USER 65532:65532') },
  { name: 'no group', rule: 'FINAL_USER', input: () => dockerfileWith('USER 1001:1001', 'USER 1001') },
  { name: 'pod runs as another UID', rule: 'FINAL_USER', input: () => ({ ...committed(), router: { ...committed().router, runAsUser: 1000 } }) },
  { name: 'slim final stage (apt, npm, shell)', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('FROM ${RUNTIME_IMAGE} AS runtime', 'FROM ${BUILDER_IMAGE} AS runtime') },
  { name: 'RUN in the final stage', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('USER 1001:1001', 'RUN ["/nodejs/bin/node", "-e", "1"]\nUSER 1001:1001') },
  { name: 'npm copied in', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('USER 1001:1001', 'COPY --from=build /usr/local/bin/npm /usr/local/bin/npm\nUSER 1001:1001') },
  { name: 'yarn copied in', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('USER 1001:1001', 'COPY --from=build /opt/yarn-v1.22.22 /opt/yarn\nUSER 1001:1001') },
  { name: 'apk copied from another image', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('USER 1001:1001', 'COPY --from=alpine:3.20 /sbin/apk /sbin/apk\nUSER 1001:1001') },
  { name: 'the whole build tree copied', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('COPY --from=build --chown=0:0 /src/dist ./dist', 'COPY --from=build --chown=0:0 /src ./') },
  { name: 'build context copied into the final stage', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith('COPY --from=build --chown=0:0 /src/dist ./dist', 'COPY . ./') },
  { name: 'dev dependencies kept', rule: 'NO_PACKAGE_MANAGER', input: () => dockerfileWith(' && npm prune --omit=dev --ignore-scripts --no-audit --no-fund', '') },
  { name: 'npm as a production dependency', rule: 'NO_PACKAGE_MANAGER', input: () => ({ ...committed(), dependencies: [...committed().dependencies, 'npm'] }) },
  { name: 'registry token as a build arg', rule: 'NO_SECRETS', input: () => dockerfileWith('FROM ${BUILDER_IMAGE} AS build', 'FROM ${BUILDER_IMAGE} AS build\nARG NPM_TOKEN') },
  { name: 'credential in ENV', rule: 'NO_SECRETS', input: () => dockerfileWith('ENV NODE_ENV=production', 'ENV NODE_ENV=production\nENV AZURE_CLIENT_SECRET=x') },
  { name: 'global credential ARG', rule: 'NO_SECRETS', input: () => dockerfileWith('ARG BUILDER_IMAGE=', 'ARG REGISTRY_PASSWORD=x\nARG BUILDER_IMAGE=') },
  { name: 'npm auth token inline', rule: 'NO_SECRETS', input: () => dockerfileWith('RUN npm ci', 'RUN echo //registry.npmjs.org/:_authToken=abc > .npmrc && npm ci') },
  { name: 'no HEALTHCHECK and no reason', rule: 'HEALTHCHECK', input: () => dockerfileWith(/# No HEALTHCHECK[^\n]*\n(#[^\n]*\n)*/, '') },
  { name: 'image runs another module', rule: 'ENTRY', input: () => dockerfileWith('CMD ["dist/sandbox-node/router/main.js"]', 'CMD ["dist/functions/index.js"]') },
  { name: 'pod names another path', rule: 'ENTRY', input: () => dockerfileWith('WORKDIR /app', 'WORKDIR /srv') },
  { name: 'pod calls node from PATH (absent in distroless)', rule: 'ENTRY', input: () => ({ ...committed(), router: { ...committed().router, command: ['node', '/app/dist/sandbox-node/router/main.js'] } }) },
  { name: 'writable root', rule: 'ENTRY', input: () => ({ ...committed(), router: { ...committed().router, readOnlyRootFilesystem: false } }) },
  { name: 'local state uploaded', rule: 'DOCKERIGNORE', input: () => ({ ...committed(), dockerignore: committed().dockerignore.replace('!cli/**', '!cli/**\n!.kars-local/**') }) },
  { name: 'no deny-all first line', rule: 'DOCKERIGNORE', input: () => ({ ...committed(), dockerignore: committed().dockerignore.replace(/^\*\*$/m, 'README.md') }) },
];

describe('each image check fails on a mutated copy', () => {
  it.each(MUTATIONS)('$name → $rule', ({ rule, input }) => {
    expect(rules(input())).toContain(rule);
  });

  it('covers every rule', () => {
    expect(new Set(MUTATIONS.map((m) => m.rule))).toEqual(new Set(['STAGES', 'BASE_PINNED', 'FINAL_USER', 'NO_PACKAGE_MANAGER', 'NO_SECRETS', 'HEALTHCHECK', 'ENTRY', 'DOCKERIGNORE']));
  });
});
