// `kars deploy` and bicep/deploy.sh against a fake `az` on PATH that records its argv: prerequisites first, what-if
// before create, identical az calls from both, arguments passed without a shell, and no secret ever printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

afterAll(() => {
  fake.dispose();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

async function cli(args: string[], extraEnv: Record<string, string> = {}, confirm?: (question: string) => Promise<boolean>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['deploy', ...args], {
    out: (l) => out.push(l), err: (l) => err.push(l), env: fake.env({ ...CANARY, ...extraEnv }), cwd: work, ...(confirm ? { confirm } : {}),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), calls: fake.calls() };
}

function script(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync('/bin/bash', [SCRIPT, ...args], { cwd: work, env: fake.env({ ...CANARY, ...extraEnv }), encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, calls: fake.calls() };
}

const verbs = (calls: string[][]): string[] => calls.map((c) => c.slice(0, c[0] === 'deployment' ? 3 : 2).join(' '));

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
      const code = await runCli(['deploy', '-g', 'rg-kars', '-l', 'westeurope'], { out: (l) => out.push(l), err: (l) => err.push(l), env: { PATH: empty }, cwd: work });
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
    const piped = spawnSync('/bin/bash', [SCRIPT, '-g', 'rg-kars', '-l', 'westeurope'], { cwd: work, env: fake.env(), input: 'y\n', encoding: 'utf8' });
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
      const r = spawnSync('/bin/bash', [SCRIPT, '-g', 'rg-kars', '-l', 'westeurope'], { cwd: work, env: { PATH: empty }, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/not on PATH/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
