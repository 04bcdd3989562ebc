// Test helper: runs infra/local/servicebus/main.ts as a real child process (as the local stack does), so a test
// can kill it with SIGKILL and restart it on the same data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { transpileEntry } from '../identity/run-standalone';

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
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker not ready: ${lines.join('\n')}`)), 20_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          lines.push(line);
          const m = /^servicebus broker listening on (\d+)$/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited ${code}: ${lines.join('\n')}`));
    });
  });
  return { child, port, lines };
}

export async function killBroker(p: BrokerProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return { code: p.child.exitCode, signal: p.child.signalCode };
  const exited = once(p.child, 'exit');
  p.child.kill(signal);
  const [code, sig] = (await exited) as [number | null, string | null];
  return { code, signal: sig };
}
