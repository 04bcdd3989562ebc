// The operator's path end to end: `kars rollout start` against `npm start`'s stack rolls the two demo routers wave by
// wave, `kars rollout status --watch` draws it and `kars rollout approve` releases wave 2. Two further rollouts have
// the whole stack SIGKILLed mid-wave (one while wave 2 applies, one while it waits for health); after a restart on the
// same data directory, `status --watch` follows each to the same end state as the uninterrupted first: same outcome and
// wave results, every router at the rollout's revision by its own /healthz, each sandbox applied once, in wave order.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RolloutProgress, RolloutResult } from '../../core/rollouts/rollout-ledger';
import { alive, freePortEnv, killStackTree, startStackProcess, stopStackProcess, type StackProcess } from './support/local-stack-process';

const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
const masterKey = sample.Values.KARS_LOCAL_MASTER_KEY!;
const dataDir = mkdtempSync(join(tmpdir(), 'kars-e2e-rollout-cli-'));
const env = freePortEnv(dataDir);
const running: StackProcess[] = [];
const SANDBOXES = ['demo-sandbox', 'demo-sandbox-b'];

afterAll(async () => {
  for (const s of running) {
    const pids = stackPids(s);
    await stopStackProcess(s).catch(() => undefined);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** The stack process and every process it started now (a router a rollout restarted has a pid the ready line never named). */
function stackPids(s: StackProcess): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(s.proc.pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    // no children left
  }
  return [s.proc.pid!, ...children, ...Object.values(s.pids)];
}


interface CliRun { code: number | null; out: string }

/** `npx kars ...` as the operator runs it: the compiled CLI in a process of its own. */
function kars(args: string[]): { done: Promise<CliRun>; output: () => string } {
  const p = spawn(process.execPath, ['bin/kars.js', ...args], { env: { ...process.env, KARS_LOCAL_MASTER_KEY: masterKey }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  p.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return { done: new Promise((r) => p.once('exit', (code) => r({ code, out }))), output: () => out };
}

interface View { runtimeStatus: string; progress: RolloutProgress | null; output: RolloutResult | null; history?: Array<{ eventType: string; name?: string; input?: unknown }> }

async function view(base: string, id: string, history = false): Promise<View> {
  const r = await fetch(`${base}/api/rollouts/${id}${history ? '?history=true' : ''}`, { headers: { 'x-functions-key': masterKey }, signal: AbortSignal.timeout(10_000) });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as View;
}

async function routerRevision(stack: StackProcess, sandboxId: string): Promise<string | undefined> {
  const url = new RegExp(`${sandboxId}=(http://127\\.0\\.0\\.1:\\d+)`).exec(stack.output.find((l) => l.includes('kars local stack ready')) ?? '')?.[1];
  const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { revision?: string }).revision;
}

/** What an uninterrupted and an interrupted rollout must agree on, with the revision id taken out. */
async function endState(stack: StackProcess, id: string, revision: string): Promise<unknown> {
  const v = await view(stack.base, id, true);
  const applies = (v.history ?? []).filter((e) => e.eventType === 'TaskScheduled' && e.name === 'applySandboxRevision')
    .map((e) => (e.input as { sandboxId: string }).sandboxId);
  const routers: Record<string, string | undefined> = {};
  for (const s of SANDBOXES) routers[s] = await routerRevision(stack, s);
  return JSON.parse(JSON.stringify({ runtimeStatus: v.runtimeStatus, output: v.output, progress: v.progress, applies, routers }).split(`"${revision}"`).join('"<rev>"'));
}

const startArgs = (base: string, id: string, revision: string): string[] =>
  ['rollout', 'start', '--url', base, '--id', id, '--revision', revision, '--sandboxes', SANDBOXES.join(','), '--max-unavailable', '1', '--approve-waves', '2', '--health-interval-ms', '200'];
const watchArgs = (base: string, id: string): string[] => ['rollout', 'status', id, '--watch', '--interval-ms', '100', '--url', base];

/** Waits until the watch has drawn wave 2 waiting for approval, then approves it (with the CLI, or with one request). */
async function approveWhenDrawn(watch: { output: () => string }, base: string, id: string, via: 'cli' | 'http'): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!watch.output().includes('awaiting approval (kars rollout approve)')) {
    if (Date.now() > deadline) throw new Error(`never drawn waiting for approval:\n${watch.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (via === 'http') {
    const r = await fetch(`${base}/api/rollouts/${id}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-functions-key': masterKey }, body: '{"batch":2}' });
    expect(r.status).toBe(202);
    return;
  }
  const approved = await kars(['rollout', 'approve', id, '--url', base]).done;
  expect(approved.code, approved.out).toBe(0);
}

/** Starts a rollout with the CLI, SIGKILLs the stack once wave 2 is in `phase`, restarts it and watches the rollout finish. */
async function rollThroughKill(stack: StackProcess, id: string, revision: string, phase: 'applying' | 'verifying'): Promise<StackProcess> {
  const started = await kars(startArgs(stack.base, id, revision)).done;
  expect(started.code, started.out).toBe(0);
  const watching = kars(watchArgs(stack.base, id));
  // One request, not a CLI process: a CLI start under load can outlast the short applying phase this kill aims at.
  await approveWhenDrawn(watching, stack.base, id, 'http');
  let atKill: RolloutProgress | null = null;
  const deadline = Date.now() + 60_000;
  while (!atKill) {
    const v = await view(stack.base, id);
    const p = v.progress;
    if (p?.currentBatch === 2 && p.phase === phase) atKill = p;
    else if (v.runtimeStatus !== 'Running' && v.runtimeStatus !== 'Pending') throw new Error(`finished before the kill: ${JSON.stringify(v)}`);
    else if (Date.now() > deadline) throw new Error(`wave 2 never reached ${phase}: ${JSON.stringify(v)}`);
    else await new Promise((r) => setTimeout(r, 10));
  }
  await killStackTree(stack);
  expect(atKill).toMatchObject({ done: 1, currentBatch: 2 });
  const cut = await watching.done;
  // The watch drew wave 1 done, then lost the stack: it exits non-zero, naming why, rather than report a finish it did
  // not see.
  expect(cut.code, cut.out).not.toBe(0);
  expect(cut.out).toMatch(new RegExp(`revision ${revision}, .*\\n {2}wave 1/2 {2}\\[#{20}\\] done`));
  expect(cut.out).toMatch(/DEPENDENCY_UNAVAILABLE: could not reach/);

  const again = await startStackProcess(env);
  running.push(again);
  const resumed = await kars(watchArgs(again.base, id)).done;
  expect(resumed.code, `${resumed.out}\n${again.output.filter((l) => /router|rollout|supervisor/i.test(l)).slice(-30).join('\n')}`).toBe(0);
  expect(resumed.out).toMatch(new RegExp(`revision ${revision}, succeeded \\[Completed\\]`));
  return again;
}

describe('kars rollout against npm start: wave by wave, across a SIGKILL mid-wave', () => {
  it('reaches the same end state as an uninterrupted rollout', async () => {
    const stack = await startStackProcess(env);
    running.push(stack);

    // Uninterrupted reference: r2 over both routers, one per wave, wave 2 approved with the CLI, watched to the end.
    const started = await kars(startArgs(stack.base, 'cli-ref', 'r2')).done;
    expect(started, started.out).toMatchObject({ code: 0, out: expect.stringContaining('rollout cli-ref started: 2 sandboxes in 2 waves') });
    const watch = kars(watchArgs(stack.base, 'cli-ref'));
    await approveWhenDrawn(watch, stack.base, 'cli-ref', 'cli');
    const watched = await watch.done;
    expect(watched.code, watched.out).toBe(0);
    // Progress drawn per wave: wave 1 done while wave 2 waits for approval, then both done.
    expect(watched.out).toMatch(/wave 1\/2 {2}\[#{20}\] done\n {2}wave 2\/2 {2}\[-{20}\] /);
    expect(watched.out).toMatch(/revision r2, succeeded \[Completed\]\n {2}wave 1\/2 {2}\[#{20}\] done\n {2}wave 2\/2 {2}\[#{20}\] done\n {2}total {3}2\/2 healthy/);
    const reference = await endState(stack, 'cli-ref', 'r2');
    expect(reference).toMatchObject({ routers: { 'demo-sandbox': '<rev>', 'demo-sandbox-b': '<rev>' }, output: { outcome: 'Succeeded' } });

    // Interrupted twice: SIGKILL of the whole stack while wave 2 applies (the apply activity in flight), then on a
    // further rollout while wave 2 waits for health (the router restarting under the health gate).
    const afterApply = await rollThroughKill(stack, 'cli-crash-apply', 'r3', 'applying');
    expect(await endState(afterApply, 'cli-crash-apply', 'r3')).toEqual(reference);
    const afterHealth = await rollThroughKill(afterApply, 'cli-crash-health', 'r4', 'verifying');
    expect(await endState(afterHealth, 'cli-crash-health', 'r4')).toEqual(reference);
  }, 240_000);
});
