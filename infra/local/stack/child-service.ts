// Runs one local stand-in as a child process and waits for its "listening on <port>" line, so the stack can
// kill it (operators test outages that way) and never leaves it orphaned.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ChildService {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export interface StartChildOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  /** Receives every output line (already free of secrets: the children log allowlisted fields only). */
  onLine?: (line: string) => void;
  /** Called once when the process exits after it was ready (a crash, a kill); not called for stop(). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export async function startChildService(name: string, script: string, options: StartChildOptions = {}): Promise<ChildService> {
  const child: ChildProcess = spawn(process.execPath, [script, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready`)), options.readyTimeoutMs ?? 30_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        options.onLine?.(line);
        const m = /listening on (\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) options.onExit?.(code, signal);
  });
  return {
    name,
    pid: child.pid!,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
