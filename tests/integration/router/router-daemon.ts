// Test helper: the router daemon as its own process, started with exactly the given environment: the compiled one
// (dist/sandbox-node/router/main.js, `npm run build`), or `fromSource` its TypeScript entry point through the test
// register (no build: what an attack test under mutation review needs). Resolves once it prints its port.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../audit/support/run-ts';

export interface RouterDaemon {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  output(): string;
}

export async function startRouterDaemon(env: Record<string, string>, options: { fromSource?: boolean } = {}): Promise<RouterDaemon> {
  const argv = options.fromSource
    ? ['-r', join(REPO_ROOT, 'tests', 'integration', 'audit', 'support', 'ts-register.cjs'), join(REPO_ROOT, 'sandbox-node', 'router', 'main.ts')]
    : [join(REPO_ROOT, 'dist', 'sandbox-node', 'router', 'main.js')];
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`router not ready: ${out}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`router exited ${String(code)}: ${out}`)); });
  });
  return { child, port, exited, output: () => out };
}

/** Stops the daemon (SIGTERM, drain) and waits for its exit. */
export async function stopRouterDaemon(d: RouterDaemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill(signal);
  await d.exited;
}
