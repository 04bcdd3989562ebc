// Offline policy over the router image's Dockerfile (no Docker runs on these machines): named stages, bases pinned by
// tag and digest, a numeric non-root user that matches the pod, nothing that could carry a package manager into the
// final stage, no credentials in ARG/ENV, and a HEALTHCHECK or the reason there is none.
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
  comments: string[];
}

/** Instructions with line continuations joined; comments collected separately. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  const comments: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let raw = lines[i]!.trim();
    if (raw === '') continue;
    if (raw.startsWith('#')) {
      comments.push(raw.slice(1).trim());
      continue;
    }
    while (raw.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      const next = lines[i]!.trim();
      raw = raw.slice(0, -1) + ' ' + (next.startsWith('#') ? '' : next);
    }
    const m = /^(\S+)\s*(.*)$/.exec(raw)!;
    const ins: Instruction = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 };
    if (ins.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ base: from?.[1] ?? ins.args, ...(from?.[2] ? { name: from[2] } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, ...rest] = ins.args.split('=');
        globalArgs.set(name!.trim(), rest.length > 0 ? rest.join('=').trim() : undefined);
      }
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages, comments };
}

export interface PodContainer {
  command: string[];
  runAsUser: number;
  runAsGroup: number;
  readOnlyRootFilesystem: boolean;
}

export interface ImagePolicyInput {
  dockerfile: string;
  dockerignore: string;
  /** The router container of infra/k8s/sandbox/deployment.yaml. */
  router: PodContainer;
  /** Production dependencies of package.json (they end up in the final stage's node_modules). */
  dependencies: readonly string[];
  /** The module the pod runs, relative to /app. */
  entry: string;
}

export interface ImageViolation {
  rule: string;
  message: string;
}

const DIGEST = /@sha256:([0-9a-f]{64})$/;
const PLACEHOLDER_DIGEST = '0'.repeat(64);
const PACKAGE_MANAGERS = /\b(apt|apt-get|aptitude|dpkg|apk|npm|npx|yarn|pnpm|corepack|microdnf|dnf|yum|rpm|pip3?)\b/;
/** What the final stage may copy from the build stage: the compiled code, its production modules, package.json. */
const FINAL_COPY_SOURCES = [/^\/src\/dist\/?$/, /^\/src\/node_modules\/?$/, /^\/src\/package\.json$/];
const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PWD|KEY|CREDENTIAL|AUTH|CONNECTION|SAS)/i;
/** Paths the build context must never upload (local state, secrets). */
const MUST_IGNORE = ['.kars-local', 'local.settings.json', 'node_modules', 'dist', '.env', '*.pem'];

/** Resolves `${ARG}` / `$ARG` in a FROM line against the global ARG defaults. */
export function resolveBase(base: string, args: ReadonlyMap<string, string | undefined>): string | undefined {
  let unresolved = false;
  const out = base.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const v = args.get((a ?? b)!);
    if (v === undefined) unresolved = true;
    return v ?? '';
  });
  return unresolved ? undefined : out;
}

/** The base images and whether their digests are still the documented placeholder. */
export function baseImages(parsed: ParsedDockerfile): Array<{ stage: string; image: string | undefined; placeholder: boolean }> {
  return parsed.stages.map((s, i) => {
    const image = resolveBase(s.base, parsed.globalArgs);
    return { stage: s.name ?? `#${i}`, image, placeholder: DIGEST.exec(image ?? '')?.[1] === PLACEHOLDER_DIGEST };
  });
}

export function checkRouterImage(input: ImagePolicyInput): ImageViolation[] {
  const out: ImageViolation[] = [];
  const v = (rule: string, message: string): void => {
    out.push({ rule, message });
  };
  const parsed = parseDockerfile(input.dockerfile);
  if (parsed.stages.length < 2) v('STAGES', `expected a build stage and a final stage, found ${parsed.stages.length}`);
  const names = new Set<string>();
  for (const [i, s] of parsed.stages.entries()) {
    if (!s.name) v('STAGES', `stage ${i} (FROM ${s.base}) has no name (FROM … AS <name>)`);
    else if (names.has(s.name)) v('STAGES', `stage name ${s.name} is used twice`);
    else names.add(s.name);
  }

  // Supply chain (residual risk 1): a tag alone moves; the digest fixes the bytes, the tag says what they are.
  for (const b of baseImages(parsed)) {
    if (!b.image) {
      v('BASE_PINNED', `stage ${b.stage}: base image uses an ARG without a default`);
      continue;
    }
    if (b.image.startsWith('$') || parsed.stages.some((s) => s.name === b.image)) continue;
    const m = /^([a-z0-9.\-/:]+?):([\w.-]+)@sha256:[0-9a-f]{64}$/.exec(b.image);
    if (!m) v('BASE_PINNED', `stage ${b.stage}: base ${b.image} must be <image>:<tag>@sha256:<digest>`);
    const commentText = parsed.comments.join(' ');
    if (b.placeholder && !(/placeholder/i.test(commentText) && /docs\/[\w-]+\.md/.test(commentText))) {
      v('BASE_PINNED', `stage ${b.stage}: the placeholder digest must be documented (a comment naming the docs page)`);
    }
  }

  const final = parsed.stages[parsed.stages.length - 1];
  if (!final) return out;
  const finalImage = resolveBase(final.base, parsed.globalArgs) ?? '';

  // Non-root, numeric, the pod's UID/GID (a name would need /etc/passwd and defeat runAsNonRoot's check).
  const users = final.instructions.filter((x) => x.keyword === 'USER');
  const user = users[users.length - 1]?.args;
  const um = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  if (!um) v('FINAL_USER', `the final stage must end with a numeric USER uid:gid, found ${user ?? 'none'}`);
  else {
    if (Number(um[1]) === 0) v('FINAL_USER', 'the final stage runs as root');
    if (Number(um[1]) !== input.router.runAsUser) v('FINAL_USER', `USER ${um[1]} differs from the pod's runAsUser ${input.router.runAsUser}`);
    if (um[2] === undefined || Number(um[2]) !== input.router.runAsGroup) v('FINAL_USER', `USER group ${um[2] ?? 'none'} differs from the pod's runAsGroup ${input.router.runAsGroup}`);
  }

  // No package manager reachable in the final stage: a distroless base (no shell, no apt), no RUN (it would need a
  // shell), no ADD, COPY only the build's dist/, node_modules and package.json, and no package manager among the
  // production dependencies that land in node_modules.
  if (!/^gcr\.io\/distroless\/nodejs\d+-debian\d+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/.test(finalImage)) {
    v('NO_PACKAGE_MANAGER', `the final stage must be distroless Node (no shell, no package manager), found ${finalImage || final.base}`);
  }
  for (const ins of final.instructions) {
    if (ins.keyword === 'RUN') v('NO_PACKAGE_MANAGER', `line ${ins.line}: RUN in the final stage (distroless has no shell; a RUN means a base that has one)`);
    if (ins.keyword === 'ADD') v('NO_PACKAGE_MANAGER', `line ${ins.line}: ADD in the final stage (remote or archive content); use COPY --from=<build stage>`);
    if (ins.keyword !== 'COPY') continue;
    const parts = ins.args.split(/\s+/);
    const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
    const paths = parts.filter((p) => !p.startsWith('--'));
    const sources = paths.slice(0, -1);
    if (!from || !names.has(from) || from === final.name) v('NO_PACKAGE_MANAGER', `line ${ins.line}: the final stage copies only from a named build stage, found ${from ?? 'the build context'}`);
    for (const src of sources) {
      if (PACKAGE_MANAGERS.test(src)) v('NO_PACKAGE_MANAGER', `line ${ins.line}: copies a package manager (${src})`);
      else if (!FINAL_COPY_SOURCES.some((re) => re.test(src))) v('NO_PACKAGE_MANAGER', `line ${ins.line}: copies ${src}; only dist/, node_modules and package.json belong in the image`);
    }
  }
  for (const dep of input.dependencies) if (/^(npm|yarn|pnpm|corepack|npx)$/.test(dep)) v('NO_PACKAGE_MANAGER', `production dependency ${dep} is a package manager and would be copied with node_modules`);
  const builds = parsed.stages.slice(0, -1).flatMap((s) => s.instructions).filter((x) => x.keyword === 'RUN');
  if (!builds.some((x) => /npm prune --omit=dev/.test(x.args))) v('NO_PACKAGE_MANAGER', 'the build stage must prune dev dependencies (npm prune --omit=dev) before node_modules is copied');

  // No credential passes through the build: ARG and ENV values end up in the image history.
  for (const [name] of parsed.globalArgs) if (CREDENTIAL_NAME.test(name)) v('NO_SECRETS', `ARG ${name} looks like a credential; build args are stored in the image history`);
  for (const s of parsed.stages) {
    for (const ins of s.instructions) {
      if (ins.keyword !== 'ARG' && ins.keyword !== 'ENV') continue;
      const name = ins.args.split(/[=\s]/)[0]!;
      if (CREDENTIAL_NAME.test(name)) v('NO_SECRETS', `line ${ins.line}: ${ins.keyword} ${name} looks like a credential; it would be stored in the image`);
    }
  }
  if (/(_authToken|\/\/[^/\s]+:[^@\s]+@|npm_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,})/.test(input.dockerfile)) v('NO_SECRETS', 'the Dockerfile carries a token or a URL with credentials');

  // HEALTHCHECK, or the reason for its absence (Kubernetes ignores it and runs its own probes).
  const hasHealthcheck = final.instructions.some((x) => x.keyword === 'HEALTHCHECK' && !/^NONE$/i.test(x.args));
  if (!hasHealthcheck && !parsed.comments.some((c) => /HEALTHCHECK/.test(c) && /(Kubernetes|probe)/i.test(c))) {
    v('HEALTHCHECK', 'no HEALTHCHECK and no comment explaining why not (Kubernetes probes)');
  }

  // The pod runs what the image holds, as the image's user, on a read-only root.
  const workdir = final.instructions.filter((x) => x.keyword === 'WORKDIR').pop()?.args ?? '/';
  const cmd = final.instructions.filter((x) => x.keyword === 'CMD' || x.keyword === 'ENTRYPOINT').map((x) => x.args).join(' ');
  if (!cmd.includes(input.entry)) v('ENTRY', `the image's CMD must run ${input.entry}, found ${cmd || 'nothing'}`);
  const [bin, script] = input.router.command;
  if (bin !== '/nodejs/bin/node') v('ENTRY', `the pod's router command must start with the distroless node (/nodejs/bin/node), found ${bin ?? 'nothing'}`);
  if (script !== `${workdir.replace(/\/$/, '')}/${input.entry}`) v('ENTRY', `the pod's router command runs ${script ?? 'nothing'}, the image holds ${workdir}/${input.entry}`);
  if (!input.router.readOnlyRootFilesystem) v('ENTRY', 'the router container must run with readOnlyRootFilesystem: true');

  // The build context: local state and secrets never leave the machine.
  const ignore = input.dockerignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  // Allowlist style: exclude everything, then name what the build copies; a new file is never uploaded by accident.
  const excludesAll = ignore[0] === '**' || ignore[0] === '*';
  if (!excludesAll) v('DOCKERIGNORE', '.dockerignore must start with ** (exclude everything) and re-include what the build copies');
  for (const p of MUST_IGNORE) {
    const reincluded = ignore.some((l) => l.startsWith('!') && (l.slice(1) === p || l.slice(1).startsWith(`${p}/`)));
    const listed = ignore.some((l) => l === p || l === `**/${p}` || l === `${p}/`);
    if (reincluded || (!excludesAll && !listed)) v('DOCKERIGNORE', `.dockerignore must exclude ${p}`);
  }
  return out;
}
