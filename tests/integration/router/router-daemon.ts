// Test helper: the compiled router daemon (dist/sandbox-node/router/main.js, `npm run build`) as its own process,
// started with exactly the given environment; resolves once it prints its port.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RouterDaemon {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  output(): string;
}

export async function startRouterDaemon(env: Record<string, string>): Promise<RouterDaemon> {
  const child = spawn(process.execPath, ['dist/sandbox-node/router/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
