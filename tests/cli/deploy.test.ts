// `kars deploy` and bicep/deploy.sh against a fake `az` on PATH that records its argv: prerequisites first, what-if
// before create, then the router image built by ACR Tasks in the deployed registry, identical az calls from both,
// arguments passed without a shell, and no secret ever printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { createFakeAz } from '../bicep/fake-az';

const REPO = join(__dirname, '..', '..');
const TEMPLATE = join(REPO, 'bicep', 'main.bicep');
const SCRIPT = join(REPO, 'bicep', 'deploy.sh');
// Present in the environment of every run; must never show up in output or in az's arguments.
const CANARY = { AZURE_CLIENT_SECRET: 'canary-client-secret-7f3a9c', KARS_COSMOS_KEY: 'canary-cosmos-key-51d0e2' };

const fake = createFakeAz();
const work = mkdtempSync(join(tmpdir(), 'kars-deploy-'));
const paramsFile = join(work, 'kars.parameters.json');
writeFileSync(paramsFile, JSON.stringify({ parameters: { namePrefix: { value: 'karsx' } } }));
// A build context whose Dockerfile has its base images pinned (the committed one carries the placeholder digest).
const pinnedSource = join(work, 'src');
mkdirSync(join(pinnedSource, 'sandbox-node', 'router'), { recursive: true });
writeFileSync(join(pinnedSource, 'package.json'), '{"name":"kars-functions"}');
writeFileSync(join(pinnedSource, 'sandbox-node', 'router', 'Dockerfile'), readFileSync(join(REPO, 'sandbox-node', 'router', 'Dockerfile'), 'utf8').replaceAll('0'.repeat(64), 'ab'.repeat(32)));
/** Tests of the deployment itself skip the image step unless they pass --source (the image tests below). */
const withImageChoice = (args: string[]): string[] => (args.includes('--source') || args.includes('--help') ? args : [...args, '--skip-image']);

afterAll(() => {
  fake.dispose();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

async function cli(args: string[], extraEnv: Record<string, string> = {}, confirm?: (question: string) => Promise<boolean>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['deploy', ...withImageChoice(args)], {
    out: (l) => out.push(l), err: (l) => err.push(l), env: fake.env({ ...CANARY, ...extraEnv }), cwd: work, ...(confirm ? { confirm } : {}),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), calls: fake.calls() };
}

function script(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync('/bin/bash', [SCRIPT, ...withImageChoice(args)], { cwd: work, env: fake.env({ ...CANARY, ...extraEnv }), encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, calls: fake.calls() };
}

const verbs = (calls: string[][]): string[] => calls.map((c) => c.slice(0, c[0] === 'deployment' || c[1] === 'task' ? 3 : 2).join(' '));

function expectNoCanary(run: { out: string; err: string; calls: string[][] }): void {
  const everything = [run.out, run.err, JSON.stringify(run.calls)].join('\n');
  for (const secret of Object.values(CANARY)) expect(everything).not.toContain(secret);
}

describe('kars deploy', () => {
  it('checks the login, runs what-if, then create, with the template, location and parameters file', async () => {
    const run = await cli(['--resource-group', 'rg-kars', '--location', 'westeurope', '--parameters', 'kars.parameters.json', '--yes']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(verbs(run.calls)).toEqual(['account show', 'group show', 'deployment group what-if', 'deployment group create']);
    const deployment = ['--resource-group', 'rg-kars', '--name', 'kars', '--template-file', TEMPLATE,
      '--parameters', 'location=westeurope', '--parameters', `@${paramsFile}`];
    expect(run.calls[2]).toEqual(['deployment', 'group', 'what-if', ...deployment]);
    expect(run.calls[3]).toEqual(['deployment', 'group', 'create', ...deployment, '--query', 'properties.outputs', '--output', 'json']);
    expect(run.out).toContain('subscription: Contoso Dev 00000000-0000-0000-0000-0000000000aa');
    expect(run.out).toContain('Resource changes: 42 to create.');
    expect(run.out).toContain('"hooksBaseUrl"');
    expectNoCanary(run);
  });

  it('asks after the what-if: no answer or no deploys nothing (exit 3), yes deploys', async () => {
    const unanswered = await cli(['-g', 'rg-kars', '-l', 'westeurope']);
    expect(unanswered.code).toBe(3);
    expect(unanswered.err).toMatch(/not confirmed/);
    expect(verbs(unanswered.calls)).toEqual(['account show', 'group show', 'deployment group what-if']);
    fake.reset();
    const questions: string[] = [];
    const declined = await cli(['-g', 'rg-kars', '-l', 'westeurope'], {}, async (q) => { questions.push(q); return false; });
    expect(declined.code).toBe(3);
    expect(questions).toEqual(['deploy these changes to rg-kars?']);
    expect(verbs(declined.calls)).not.toContain('deployment group create');
    fake.reset();
    const accepted = await cli(['-g', 'rg-kars', '-l', 'westeurope'], {}, async () => true);
    expect(accepted.code).toBe(0);
    expect(verbs(accepted.calls)).toEqual(['account show', 'group show', 'deployment group what-if', 'deployment group create']);
  });

  it('--what-if previews and never creates', async () => {
    const run = await cli(['-g', 'rg-kars', '-l', 'westeurope', '--what-if']);
    expect(run.code).toBe(0);
    expect(verbs(run.calls)).toEqual(['account show', 'group show', 'deployment group what-if']);
  });

  it('creates a missing resource group before the what-if, but not for a preview', async () => {
    const deploy = await cli(['-g', 'rg-new', '-l', 'northeurope', '--yes'], { FAKE_AZ_NO_GROUP: '1' });
    expect(deploy.code).toBe(0);
    expect(deploy.calls[2]).toEqual(['group', 'create', '--name', 'rg-new', '--location', 'northeurope', '--output', 'none']);
    expect(verbs(deploy.calls).slice(3)).toEqual(['deployment group what-if', 'deployment group create']);
    fake.reset();
    const preview = await cli(['-g', 'rg-new', '-l', 'northeurope', '--what-if'], { FAKE_AZ_NO_GROUP: '1' });
    expect(preview.code).toBe(2);
    expect(preview.err).toMatch(/does not exist/);
    expect(verbs(preview.calls)).toEqual(['account show', 'group show']);
  });

  it('stops before create when the what-if fails', async () => {
    const run = await cli(['-g', 'rg-kars', '-l', 'westeurope'], { FAKE_AZ_FAIL: 'deployment group what-if' });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/simulated failure/);
    expect(verbs(run.calls)).not.toContain('deployment group create');
  });

  it('reports a failed create with exit 1', async () => {
    const run = await cli(['-g', 'rg-kars', '-l', 'westeurope', '--yes'], { FAKE_AZ_FAIL: 'deployment group create' });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/deployment failed/);
  });

  it('refuses to deploy when az is not signed in', async () => {
    const run = await cli(['-g', 'rg-kars', '-l', 'westeurope'], { FAKE_AZ_LOGGED_OUT: '1' });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/az login/);
    expect(verbs(run.calls)).toEqual(['account show']);
  });

  it('says so when az is not installed', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const empty = mkdtempSync(join(tmpdir(), 'kars-no-az-'));
    try {
      const code = await runCli(['deploy', '-g', 'rg-kars', '-l', 'westeurope', '--skip-image'], { out: (l) => out.push(l), err: (l) => err.push(l), env: { PATH: empty }, cwd: work });
      expect(code).toBe(2);
      expect(err.join('\n')).toMatch(/not on PATH/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('validates its arguments before running az, and passes odd but valid names as one argument (no shell)', async () => {
    for (const bad of [
      ['-g', 'rg; rm -rf /', '-l', 'westeurope'],
      ['-g', 'rg-kars', '-l', 'West Europe'],
      ['-g', 'rg-kars'],
      ['-g', 'rg.', '-l', 'westeurope'],
      ['-g', 'rg-kars', '-l', 'westeurope', '--parameters', 'missing.json'],
      ['-g', 'rg-kars', '-l', 'westeurope', '--surprise'],
    ]) {
      const run = await cli(bad);
      expect(run.code, bad.join(' ')).toBe(2);
      expect(run.calls, bad.join(' ')).toEqual([]);
    }
    const odd = await cli(['-g', 'rg(kars).$HOME', '-l', 'westeurope', '--what-if']);
    expect(odd.code).toBe(2); // `$` is not allowed in a resource group name
    const parens = await cli(['-g', 'rg(kars).v2', '-l', 'westeurope', '--what-if']);
    expect(parens.code).toBe(0);
    expect(parens.calls[1]).toEqual(['group', 'show', '--name', 'rg(kars).v2', '--output', 'none']);
  });

  it('refuses a parameters file that is not an ARM parameters document, without printing it', async () => {
    const notJson = join(work, 'broken.json');
    writeFileSync(notJson, `{"parameters": {"x": {"value": "${CANARY.AZURE_CLIENT_SECRET}"`);
    const run = await cli(['-g', 'rg-kars', '-l', 'westeurope', '-p', notJson]);
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expectNoCanary(run);
  });

  it('prints its usage with --help', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/--resource-group/);
    expect(run.calls).toEqual([]);
  });
});

describe('bicep/deploy.sh', () => {
  it('runs exactly the az calls kars deploy runs', async () => {
    for (const args of [
      ['-g', 'rg-kars', '-l', 'westeurope', '-p', 'kars.parameters.json', '--yes'],
      ['--resource-group', 'rg-kars', '--location', 'westeurope', '--what-if', '--name', 'kars-preview'],
    ]) {
      const viaScript = script(args);
      expect(viaScript.code, viaScript.err).toBe(0);
      fake.reset();
      const viaCli = await cli(args);
      expect(viaCli.code).toBe(0);
      expect(viaScript.calls).toEqual(viaCli.calls);
      fake.reset();
      expectNoCanary(viaScript);
    }
  });

  it('asks after the what-if: without a terminal and without --yes nothing is deployed (exit 3)', () => {
    const run = script(['-g', 'rg-kars', '-l', 'westeurope']);
    expect(run.code).toBe(3);
    expect(run.err).toMatch(/not confirmed/);
    expect(verbs(run.calls)).toEqual(['account show', 'group show', 'deployment group what-if']);
    fake.reset();
    // Input piped in is not a terminal: it cannot confirm either.
    const piped = spawnSync('/bin/bash', [SCRIPT, '-g', 'rg-kars', '-l', 'westeurope', '--skip-image'], { cwd: work, env: fake.env(), input: 'y\n', encoding: 'utf8' });
    expect(piped.status).toBe(3);
    expect(verbs(fake.calls())).not.toContain('deployment group create');
  });

  it('creates a missing group, stops on a failed what-if, and refuses without a login', () => {
    const created = script(['-g', 'rg-new', '-l', 'northeurope', '-y'], { FAKE_AZ_NO_GROUP: '1' });
    expect(created.code).toBe(0);
    expect(verbs(created.calls)).toEqual(['account show', 'group show', 'group create', 'deployment group what-if', 'deployment group create']);
    fake.reset();
    const failed = script(['-g', 'rg-kars', '-l', 'westeurope'], { FAKE_AZ_FAIL: 'deployment group what-if' });
    expect(failed.code).toBe(1);
    expect(verbs(failed.calls)).not.toContain('deployment group create');
    fake.reset();
    const loggedOut = script(['-g', 'rg-kars', '-l', 'westeurope'], { FAKE_AZ_LOGGED_OUT: '1' });
    expect(loggedOut.code).toBe(2);
    expect(loggedOut.err).toMatch(/az login/);
    expect(verbs(loggedOut.calls)).toEqual(['account show']);
  });

  it('validates arguments before running az and never echoes an unknown argument', () => {
    const unknown = script(['-g', 'rg-kars', '-l', 'westeurope', `--secret=${CANARY.KARS_COSMOS_KEY}`]);
    expect(unknown.code).toBe(2);
    expect(unknown.calls).toEqual([]);
    expectNoCanary(unknown);
    const bad = script(['-g', 'rg; rm -rf /', '-l', 'westeurope']);
    expect(bad.code).toBe(2);
    expect(bad.calls).toEqual([]);
  });

  it('says so when az is not installed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'kars-no-az-'));
    try {
      const r = spawnSync('/bin/bash', [SCRIPT, '-g', 'rg-kars', '-l', 'westeurope', '--skip-image'], { cwd: work, env: { PATH: empty }, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/not on PATH/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('router image step (kars deploy and bicep/deploy.sh)', () => {
  const DIGEST = `sha256:${'c'.repeat(64)}`;
  const image = ['--source', pinnedSource, '--image-tag', 't20261208-1'];

  it('after the deployment, builds with ACR Tasks on the registry\'s in-VNet pool and prints the image by digest', async () => {
    const run = await cli(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(verbs(run.calls)).toEqual(['account show', 'group show', 'deployment group what-if', 'deployment group create',
      'deployment group show', 'acr build', 'acr task list-runs']);
    expect(run.calls[4]!.slice(0, 7)).toEqual(['deployment', 'group', 'show', '--resource-group', 'rg-kars', '--name', 'kars']);
    expect(run.calls[5]).toEqual(['acr', 'build', '--registry', 'karsacrx1y2z3', '--resource-group', 'rg-kars', '--agent-pool', 'kars-build',
      '--image', 'kars/router:t20261208-1', '--file', 'sandbox-node/router/Dockerfile', '--platform', 'linux/amd64', pinnedSource]);
    expect(run.calls[6]).toEqual(expect.arrayContaining(['--registry', 'karsacrx1y2z3', '--run-status', 'Succeeded']));
    expect(run.calls[6]!.join(' ')).toContain("tag=='t20261208-1'");
    expect(run.out).toContain(`router image: karsacrx1y2z3.azurecr.io/kars/router@${DIGEST}`);
    expect(run.out).toContain(`--router-image karsacrx1y2z3.azurecr.io/kars/router@${DIGEST}`);
    expectNoCanary(run);
  });

  it('deploy.sh runs exactly the same image calls', async () => {
    const viaScript = script(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image]);
    expect(viaScript.code, viaScript.err).toBe(0);
    expect(viaScript.out).toContain(`router image: karsacrx1y2z3.azurecr.io/kars/router@${DIGEST}`);
    fake.reset();
    const viaCli = await cli(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image]);
    expect(viaScript.calls).toEqual(viaCli.calls);
    expectNoCanary(viaScript);
  });

  it('refuses to start while the Dockerfile carries the placeholder digest (nothing created), but a preview runs', async () => {
    const unpinned = ['-g', 'rg-kars', '-l', 'westeurope', '--yes', '--source', REPO];
    const viaCli = await cli(unpinned);
    expect(viaCli.code).toBe(2);
    expect(viaCli.err).toMatch(/placeholder base image digest/);
    expect(viaCli.calls).toEqual([]);
    const viaScript = script(unpinned);
    expect(viaScript.code).toBe(2);
    expect(viaScript.err).toMatch(/placeholder base image digest/);
    expect(viaScript.calls).toEqual([]);
    const preview = await cli(['-g', 'rg-kars', '-l', 'westeurope', '--what-if', '--source', REPO]);
    expect(preview.code).toBe(0);
    expect(verbs(preview.calls)).not.toContain('acr build');
  });

  it('builds nothing when the deployment has no registry (deployAks=false)', async () => {
    for (const run of [await cli(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image], { FAKE_AZ_NO_REGISTRY: '1' }),
      (fake.reset(), script(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image], { FAKE_AZ_NO_REGISTRY: '1' }))]) {
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/no registry in this deployment/);
      expect(verbs(run.calls)).not.toContain('acr build');
      fake.reset();
    }
  });

  it('a failed build exits 1 without reading a digest; a missing digest exits 1', async () => {
    const failed = await cli(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image], { FAKE_AZ_FAIL: 'acr build' });
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/router image build failed/);
    expect(verbs(failed.calls)).not.toContain('acr task list-runs');
    fake.reset();
    const scriptFailed = script(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image], { FAKE_AZ_FAIL: 'acr build' });
    expect(scriptFailed.code).toBe(1);
    fake.reset();
    for (const run of [await cli(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image], { FAKE_AZ_NO_DIGEST: '1' }),
      (fake.reset(), script(['-g', 'rg-kars', '-l', 'westeurope', '--yes', ...image], { FAKE_AZ_NO_DIGEST: '1' }))]) {
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/digest could not be read/);
      expect(run.out).not.toMatch(/router image: /);
      fake.reset();
    }
  });

  it('refuses a bad image tag before running az', async () => {
    const bad = ['-g', 'rg-kars', '-l', 'westeurope', '--yes', '--source', pinnedSource, '--image-tag', 'x;rm -rf /'];
    const viaCli = await cli(bad);
    expect(viaCli.code).toBe(2);
    expect(viaCli.calls).toEqual([]);
    const viaScript = script(bad);
    expect(viaScript.code).toBe(2);
    expect(viaScript.calls).toEqual([]);
  });
});
