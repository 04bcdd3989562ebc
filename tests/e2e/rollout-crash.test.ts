// `npm start` rollouts survive a SIGKILL of every process of the stack: a rollout over the two demo routers rolls
// wave 1 (a real router restart, healthy by its own /healthz), waits for approval of wave 2; the approval is answered
// 202 and a second rollout is started, then the whole stack (Azurite included) is SIGKILLed at once. After a restart on
// the same data directory both rollouts resume from their journaled history and finish: wave 1 is not applied again,
// the acknowledged approval and the acknowledged start are not lost, and the routers run the rolled revisions. A third
// rollout fails its health gate and is killed mid-rollback; after the restart it still restores the previous revision.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RolloutProgress, RolloutResult } from '../../core/rollouts/rollout-ledger';
import { alive, freePortEnv, killStackTree, startStackProcess, stopStackProcess, type StackProcess } from './support/local-stack-process';

const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
const masterKey = sample.Values.KARS_LOCAL_MASTER_KEY!;
const dataDir = mkdtempSync(join(tmpdir(), 'kars-e2e-rollout-crash-'));
const env = { ...freePortEnv(dataDir), KARS_LOCAL_MODEL_PORT: '0', KARS_LOCAL_ROUTER_PORT: '0', KARS_LOCAL_ROUTER_B_PORT: '0' };
const running: StackProcess[] = [];

afterAll(async () => {
  for (const s of running) {
    const pids = stackPids(s);
    await stopStackProcess(s).catch(() => undefined);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** The stack process and every process it started now (routers a rollout restarted have pids the ready line never named). */
function stackPids(s: StackProcess): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(s.proc.pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    // no children left
  }
  return [s.proc.pid!, ...children, ...Object.values(s.pids)];
}


const headers = { 'content-type': 'application/json', 'x-functions-key': masterKey };

interface View { runtimeStatus: string; progress: RolloutProgress | null; output: RolloutResult | null; history?: Array<{ eventType: string; name?: string; input?: unknown }> }

async function view(base: string, id: string, history = false): Promise<View> {
  const r = await fetch(`${base}/api/rollouts/${id}${history ? '?history=true' : ''}`, { headers, signal: AbortSignal.timeout(10_000) });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as View;
}

async function until(base: string, id: string, done: (v: View) => boolean, timeoutMs = 60_000): Promise<View> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await view(base, id);
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function routerRevision(stack: StackProcess, sandboxId: string): Promise<string | undefined> {
  const url = new RegExp(`${sandboxId}=(http://127\\.0\\.0\\.1:\\d+)`).exec(stack.output.find((l) => l.includes('kars local stack ready')) ?? '')?.[1];
  const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { revision?: string }).revision;
}

describe('npm start: rollouts across a SIGKILL of the whole stack', () => {
  it('resume from history without re-running finished waves, keeping an acknowledged approval and start', async () => {
    const stack = await startStackProcess(env);
    running.push(stack);
    const start = await fetch(`${stack.base}/api/rollouts`, {
      method: 'POST', headers, body: JSON.stringify({
        instanceId: 'crash-rollout-1', revision: { id: 'r2', spec: {} }, sandboxIds: ['demo-sandbox', 'demo-sandbox-b'],
        maxUnavailable: 1, approval: { batches: [2] }, health: { intervalMs: 200, maxChecks: 150 },
      }),
    });
    expect(start.status).toBe(202);
    // Wave 1 rolled the first router for real (restarted with r2, healthy by its own /healthz).
    const waiting = await until(stack.base, 'crash-rollout-1', (v) => v.progress?.awaitingApproval === 2);
    expect(waiting.progress).toMatchObject({ done: 1, currentBatch: 2 });
    expect(await routerRevision(stack, 'demo-sandbox')).toBe('r2');

    const approve = await fetch(`${stack.base}/api/rollouts/crash-rollout-1/approve`, { method: 'POST', headers, body: '{"batch":2}' });
    expect(approve.status).toBe(202);
    const second = await fetch(`${stack.base}/api/rollouts`, {
      method: 'POST', headers, body: JSON.stringify({ instanceId: 'crash-rollout-2', revision: { id: 'r3', spec: {} }, sandboxIds: ['demo-sandbox'], health: { intervalMs: 200, maxChecks: 150 } }),
    });
    expect(second.status).toBe(202);
    await killStackTree(stack);

    const again = await startStackProcess(env);
    running.push(again);
    const first = await until(again.base, 'crash-rollout-1', (v) => v.runtimeStatus === 'Completed');
    expect(first.output).toMatchObject({ outcome: 'Succeeded', succeeded: ['demo-sandbox', 'demo-sandbox-b'] });
    const next = await until(again.base, 'crash-rollout-2', (v) => v.runtimeStatus === 'Completed');
    expect(next.output, `${JSON.stringify(next.output)}\n${again.output.filter((l) => /router|rollout|supervisor/i.test(l)).slice(-30).join('\n')}`).toMatchObject({ outcome: 'Succeeded', succeeded: ['demo-sandbox'] });

    const history = (await view(again.base, 'crash-rollout-1', true)).history ?? [];
    const applies = history.filter((e) => e.eventType === 'TaskScheduled' && e.name === 'applySandboxRevision')
      .map((e) => (e.input as { sandboxId: string }).sandboxId);
    // Wave 1 was applied once, before the kill; only wave 2 ran after it.
    expect(applies).toEqual(['demo-sandbox', 'demo-sandbox-b']);
    expect(history.filter((e) => e.eventType === 'EventRaised' && e.name === 'RolloutApprove')).toHaveLength(1);
    expect(await routerRevision(again, 'demo-sandbox-b')).toBe('r2');
    expect(await routerRevision(again, 'demo-sandbox')).toBe('r3');

    // A revision the router refuses (no deployments): the health gate fails it and the rollout rolls back; the stack is
    // killed again mid-rollback. The rollback target (r2) was journaled with the apply, so the resumed rollout restores it.
    const bad = await fetch(`${again.base}/api/rollouts`, {
      method: 'POST', headers, body: JSON.stringify({
        instanceId: 'crash-rollback', revision: { id: 'r-bad', spec: { env: { KARS_ROUTER_DEPLOYMENTS: ' , ' } } },
        sandboxIds: ['demo-sandbox-b'], health: { intervalMs: 1000, maxChecks: 30 },
      }),
    });
    expect(bad.status).toBe(202);
    await until(again.base, 'crash-rollback', (v) => v.progress?.phase === 'rolling-back' || v.runtimeStatus !== 'Running', 60_000);
    expect((await view(again.base, 'crash-rollback')).progress?.phase).toBe('rolling-back');
    await killStackTree(again);

    const third = await startStackProcess(env);
    running.push(third);
    const rolled = await until(third.base, 'crash-rollback', (v) => v.runtimeStatus === 'Completed');
    expect(rolled.output).toMatchObject({
      outcome: 'RolledBack', haltReason: 'failure-threshold', failed: [{ sandboxId: 'demo-sandbox-b', reason: 'ProcessExited' }],
      rolledBack: ['demo-sandbox-b'], rollbackFailed: [],
    });
    expect(await routerRevision(third, 'demo-sandbox-b')).toBe('r2');
  }, 300_000);
});
