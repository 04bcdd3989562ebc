// Test helper: runs infra/local/servicebus/main.ts as a real child process (as the local stack does), so a test
// can kill it with SIGKILL and restart it on the same data directory.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { startStandalone, transpileEntry } from '../identity/run-standalone';

export interface BrokerProcess {
  child: ChildProcess;
  port: number;
  lines: string[];
}

export async function buildBrokerMain(outDir: string): Promise<string> {
  return transpileEntry('infra/local/servicebus/main.ts', outDir);
}

export async function spawnBroker(script: string, args: readonly string[]): Promise<BrokerProcess> {
  // The transpiled files live outside the repository; they resolve rhea from the repository's node_modules.
  const env = { PATH: process.env.PATH, NODE_PATH: path.join(process.cwd(), 'node_modules') };
  return startStandalone(script, env, /^servicebus broker listening on (\d+)$/, args);
}

export async function killBroker(p: BrokerProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return { code: p.child.exitCode, signal: p.child.signalCode };
  const exited = once(p.child, 'exit');
  p.child.kill(signal);
  const [code, sig] = (await exited) as [number | null, string | null];
  return { code, signal: sig };
}
