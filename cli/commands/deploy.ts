// `kars deploy`: deploys bicep/main.bicep with the Azure CLI (prerequisites, what-if, then create), then builds the
// router image into the deployed registry with ACR Tasks (deploy-image.ts); the same az calls as bicep/deploy.sh. az
// runs from an argument array (no shell), and nothing secret is passed or printed: the template takes no secret
// parameter and its outputs carry none.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand, CliIo } from '../command';
import { CliUsageError } from '../command';
import { defaultImageTag, IMAGE_TAG, imageCommands, imageSourceProblem, routerImageRef } from './deploy-image';

const USAGE = `usage: kars deploy --resource-group <name> --location <region> [--what-if] [--parameters <file.json> ...]
                   [--name <deployment>] [--template <main.bicep>] [--yes]
                   [--skip-image] [--image-tag <tag>] [--source <dir>]
  --resource-group  target resource group (created when missing, unless --what-if)
  --location        Azure region of the resource group and of the regional resources (e.g. westeurope)
  --what-if         preview the changes (az deployment group what-if) and stop
  --yes             deploy after the what-if without asking (CI); otherwise the terminal is asked, and without
                    one nothing is deployed
  --parameters      ARM parameters file (repeatable), e.g. bicep/main.parameters.example.json; never put secrets
                    in it: the template takes none
  --name            deployment name (default kars)
  --template        Bicep template (default: bicep/main.bicep of this package)
  --skip-image      deploy only; do not build the router image
  --image-tag       tag of the router image build (default: UTC yyyymmdd-HHMMSS); it is printed by digest
  --source          build context holding sandbox-node/router/Dockerfile (default: this package)
  runs              az account show; az group show|create; az deployment group what-if; az deployment group create;
                    then az deployment group show (registry outputs); az acr build --agent-pool (ACR Tasks inside
                    the VNet); az acr task list-runs (the image digest)
  needs             the Azure CLI (az, with its bundled Bicep) on PATH and az login; Owner or User Access
                    Administrator on the resource group (the template creates role assignments and one custom role);
                    for the image, Container Registry Tasks Contributor on the registry (docs/deploy.md)
  exit codes        0 deployed (or previewed), 1 az reported a failure, 2 usage or a missing prerequisite,
                    3 the what-if was not confirmed (nothing deployed)`;

// Resource group names: letters, digits, underscores, hyphens, periods (not at the end) and parentheses, 1..90.
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;
const LOCATION = /^[a-z][a-z0-9]{1,39}$/;
const DEPLOYMENT_NAME = /^[-\w.()]{1,64}$/;

export interface DeployPlan {
  resourceGroup: string;
  location: string;
  name: string;
  template: string;
  parameterFiles: string[];
  whatIfOnly: boolean;
  /** Deploy after the what-if without asking. */
  assumeYes: boolean;
  /** Build the router image after the deployment (false with --skip-image). */
  buildImage: boolean;
  imageTag: string;
  /** Build context of the router image. */
  source: string;
}

/** The az argument lists, in order, that a deployment runs (bicep/deploy.sh runs the same). */
export function deployCommands(plan: DeployPlan): {
  account: string[];
  groupShow: string[];
  groupCreate: string[];
  whatIf: string[];
  create: string[];
} {
  const deployment = [
    '--resource-group', plan.resourceGroup, '--name', plan.name, '--template-file', plan.template,
    '--parameters', `location=${plan.location}`,
    ...plan.parameterFiles.flatMap((f) => ['--parameters', `@${f}`]),
  ];
  return {
    account: ['account', 'show', '--query', '[name, id]', '--output', 'tsv'],
    groupShow: ['group', 'show', '--name', plan.resourceGroup, '--output', 'none'],
    groupCreate: ['group', 'create', '--name', plan.resourceGroup, '--location', plan.location, '--output', 'none'],
    whatIf: ['deployment', 'group', 'what-if', ...deployment],
    create: ['deployment', 'group', 'create', ...deployment, '--query', 'properties.outputs', '--output', 'json'],
  };
}

export const deployCommand: CliCommand = {
  name: 'deploy',
  summary: 'deploy bicep/ to a resource group with az (what-if first, then create)',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const plan = readPlan(args, io.cwd);
    const commands = deployCommands(plan);
    const az = (argv: string[], quiet = false) => runAz(argv, io, { quiet });
    // Checked before anything is created: a deployment whose image cannot be built is stopped at the start.
    const sourceProblem = plan.buildImage && !plan.whatIfOnly ? imageSourceProblem(plan.source) : undefined;
    if (sourceProblem) {
      io.err(`kars deploy: ${sourceProblem}`);
      return 2;
    }

    const account = await az(commands.account, true);
    if (account.missing) {
      io.err('kars deploy: the Azure CLI (az) is not on PATH; install it: https://aka.ms/installazurecli');
      return 2;
    }
    if (account.code !== 0) {
      io.err('kars deploy: az is not signed in (run az login, then az account set --subscription <id>)');
      return 2;
    }
    io.out(`subscription: ${account.stdout.trim().split(/\s+/).join(' ')}`);

    const group = await az(commands.groupShow, true);
    if (group.code !== 0) {
      if (plan.whatIfOnly) {
        io.err(`kars deploy: resource group ${plan.resourceGroup} does not exist (what-if needs it; deploy without --what-if creates it)`);
        return 2;
      }
      io.out(`creating resource group ${plan.resourceGroup} in ${plan.location}`);
      if ((await az(commands.groupCreate)).code !== 0) return 1;
    }

    io.out('what-if: changes this deployment would make');
    if ((await az(commands.whatIf)).code !== 0) {
      io.err('kars deploy: what-if failed; nothing was deployed');
      return 1;
    }
    if (plan.whatIfOnly) return 0;
    // The what-if is what the operator reviews: nothing is created before they (or --yes in CI) agree to it.
    if (!plan.assumeYes && !(await io.confirm?.(`deploy these changes to ${plan.resourceGroup}?`))) {
      io.err('kars deploy: not confirmed; nothing was deployed (answer y on a terminal, or pass --yes after reviewing the what-if)');
      return 3;
    }

    io.out(`deploying ${plan.name} to ${plan.resourceGroup}`);
    if ((await az(commands.create)).code !== 0) {
      io.err('kars deploy: deployment failed (az deployment group show / operation list name the failing resource)');
      return 1;
    }
    return plan.buildImage ? buildRouterImage(plan, io, az) : 0;
  },
};

type Az = (argv: string[], quiet?: boolean) => Promise<AzResult>;

/** deploy-image.ts: registry from the outputs → az acr build on the in-VNet pool → the image by digest. */
async function buildRouterImage(plan: DeployPlan, io: CliIo, az: Az): Promise<number> {
  const image = { resourceGroup: plan.resourceGroup, deploymentName: plan.name, source: plan.source, tag: plan.imageTag };
  const outputs = await az(imageCommands(image).outputs, true);
  if (outputs.code !== 0) {
    io.err('kars deploy: could not read the registry from the deployment outputs');
    return 1;
  }
  const [registry = '', loginServer = '', pool = ''] = outputs.stdout.trim().split('\t');
  if (registry === '') {
    io.out('router image: no registry in this deployment (deployAks=false); not built');
    return 0;
  }
  if (!/^[A-Za-z0-9]{5,50}$/.test(registry) || !/^[A-Za-z0-9-]{3,20}$/.test(pool)) {
    io.err('kars deploy: the deployment outputs name no valid registry and agent pool');
    return 1;
  }
  const commands = imageCommands(image, registry, pool);
  io.out(`building ${registry}/kars/router:${plan.imageTag} with ACR Tasks (agent pool ${pool})`);
  if ((await az(commands.build)).code !== 0) {
    io.err(`kars deploy: router image build failed (az acr task list-runs --registry ${registry} shows the run)`);
    return 1;
  }
  const digest = await az(commands.digest, true);
  const ref = digest.code === 0 ? routerImageRef(loginServer, digest.stdout.trim()) : undefined;
  if (!ref) {
    io.err('kars deploy: the build finished but its digest could not be read (az acr task list-runs)');
    return 1;
  }
  io.out(`router image: ${ref}`);
  io.out(`sandbox manifests: node dist/infra/k8s/render-sandbox-main.js kars-<name> --router-image ${ref} --router-client-id <routerClientId> --tenant-id <tenant>`);
  return 0;
}

function readPlan(args: readonly string[], cwd: string): DeployPlan {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        'resource-group': { type: 'string', short: 'g' },
        location: { type: 'string', short: 'l' },
        'what-if': { type: 'boolean', default: false },
        parameters: { type: 'string', short: 'p', multiple: true },
        name: { type: 'string', short: 'n' },
        template: { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
        'skip-image': { type: 'boolean', default: false },
        'image-tag': { type: 'string' },
        source: { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message : 'invalid arguments');
  }
  const v = parsed.values;
  const resourceGroup = v['resource-group'];
  const location = v.location;
  if (!resourceGroup || !RESOURCE_GROUP.test(resourceGroup)) throw new CliUsageError('--resource-group: 1..90 letters, digits, _ - . ( ), not ending with a period');
  if (!location || !LOCATION.test(location)) throw new CliUsageError('--location: an Azure region name such as westeurope');
  const name = v.name ?? 'kars';
  if (!DEPLOYMENT_NAME.test(name)) throw new CliUsageError('--name: 1..64 letters, digits, _ - . ( )');
  const template = v.template !== undefined ? resolve(cwd, v.template) : findPackageFile(join('bicep', 'main.bicep'));
  if (!template || !isFile(template)) throw new CliUsageError('--template: Bicep file not found');
  const parameterFiles = (v.parameters ?? []).map((p) => resolve(cwd, p));
  for (const file of parameterFiles) {
    if (!isFile(file)) throw new CliUsageError(`--parameters: ${file} not found`);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // The file's content is never printed: it may be a copy someone put a value in.
      throw new CliUsageError(`--parameters: ${file} is not JSON`);
    }
    if (typeof doc !== 'object' || doc === null || typeof (doc as { parameters?: unknown }).parameters !== 'object') {
      throw new CliUsageError(`--parameters: ${file} has no "parameters" object (ARM deployment parameters file)`);
    }
  }
  const imageTag = v['image-tag'] ?? defaultImageTag(new Date());
  if (!IMAGE_TAG.test(imageTag)) throw new CliUsageError('--image-tag: 1..128 letters, digits, _ . -, not starting with . or -');
  const packageJson = findPackageFile('package.json');
  const source = v.source !== undefined ? resolve(cwd, v.source) : packageJson ? dirname(packageJson) : cwd;
  return {
    resourceGroup, location, name, template, parameterFiles, whatIfOnly: v['what-if'] ?? false, assumeYes: v.yes ?? false,
    buildImage: !(v['skip-image'] ?? false), imageTag, source,
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Walks up from this module to the package root (works from cli/commands and from dist/cli/commands). */
function findPackageFile(relative: string): string | undefined {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

interface AzResult {
  code: number;
  stdout: string;
  missing: boolean;
}

/** Runs az with an argument array (no shell); streams its lines unless quiet. */
function runAz(argv: string[], io: CliIo, options: { quiet: boolean }): Promise<AzResult> {
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(io.env)) if (val !== undefined) env[k] = val;
  return new Promise((resolveResult) => {
    const child = spawn('az', argv, { cwd: io.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true });
    let stdout = '';
    const forward = (print: (line: string) => void) => {
      let rest = '';
      return {
        push(chunk: Buffer) {
          rest += chunk.toString('utf8');
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          if (!options.quiet) for (const line of lines) print(line.replace(/\r$/, ''));
        },
        flush() {
          if (!options.quiet && rest) print(rest);
        },
      };
    };
    const out = forward((l) => io.out(l));
    const err = forward((l) => io.err(l));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => resolveResult({ code: 127, stdout, missing: e.code === 'ENOENT' }));
    child.on('close', (code) => {
      out.flush();
      err.flush();
      resolveResult({ code: code ?? 1, stdout, missing: false });
    });
  });
}
