// Test helper (T1-D multi-process): forks N limiter worker processes (the worker's TypeScript transpiled once, in
// well under a second), runs a load scenario in all of them from one synchronised start, and measures admissions
// over sliding 1 s windows.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { transpileEntry } from '../identity/run-standalone';
import type { LoadResult, LoadScenario } from './limiter-load-worker';

export interface LimiterWorkers {
  readonly children: ChildProcess[];
  run(scenarioFor: (index: number) => LoadScenario): Promise<LoadResult[]>;
  stop(): Promise<void>;
}

type WorkerMessage = { type: 'ready' } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

export async function startLimiterWorkers(count: number): Promise<LimiterWorkers> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'kars-limiter-'));
  const script = await transpileEntry('tests/integration/edge-limiter/limiter-load-worker.ts', outDir);
  // The transpiled files live outside the repository; they resolve packages from the repository's node_modules.
  const env = { PATH: process.env.PATH, NODE_PATH: path.join(process.cwd(), 'node_modules') };
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const child = fork(script, [], { env, execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString('utf8')));
    children.push(child);
  }
  await Promise.all(children.map((c) => nextMessage(c, stderr, 30_000)));

  return {
    children,
    async run(scenarioFor) {
      const pending = children.map((c) => nextMessage(c, stderr, 120_000));
      children.forEach((c, i) => c.send({ type: 'run', scenario: scenarioFor(i) }));
      const messages = await Promise.all(pending);
      return messages.map((m) => {
        if (m.type === 'result') return m.result;
        throw new Error(`worker failed: ${m.type === 'error' ? m.message : m.type}`);
      });
    },
    async stop() {
      await Promise.all(children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = once(c, 'exit');
        if (c.connected) c.send({ type: 'exit' });
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

function nextMessage(child: ChildProcess, stderr: string[], timeoutMs: number): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`worker ${child.pid} silent: ${stderr.join('')}`)); }, timeoutMs);
    const onMessage = (m: WorkerMessage): void => { cleanup(); resolve(m); };
    const onExit = (code: number | null): void => { cleanup(); reject(new Error(`worker ${child.pid} exited ${code}: ${stderr.join('')}`)); };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface WindowStats {
  max: number;
  min: number;
  maxStartMs: number;
  minStartMs: number;
  windows: number;
}

/**
 * Admissions in every window [s, s + windowMs) for s from `fromMs` to `toMs - windowMs` (every millisecond), over the
 * sorted union of `times`.
 */
export function slidingWindows(times: readonly number[], fromMs: number, toMs: number, windowMs = 1000): WindowStats {
  const t = [...times].sort((a, b) => a - b);
  let lo = 0;
  let hi = 0;
  const out: WindowStats = { max: -1, min: Number.POSITIVE_INFINITY, maxStartMs: fromMs, minStartMs: fromMs, windows: 0 };
  for (let s = fromMs; s + windowMs <= toMs; s += 1) {
    while (lo < t.length && t[lo]! < s) lo += 1;
    while (hi < t.length && t[hi]! < s + windowMs) hi += 1;
    const n = hi - lo;
    out.windows += 1;
    if (n > out.max) { out.max = n; out.maxStartMs = s; }
    if (n < out.min) { out.min = n; out.minStartMs = s; }
  }
  return out;
}

