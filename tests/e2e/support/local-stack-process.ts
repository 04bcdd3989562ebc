// Runs the compiled `npm start` (dist/infra/local/start.js) as a child process on free ports, waits for its ready line,
// and reads the pids and ports it prints, so an end-to-end test can kill one part and restart the whole stack.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const START = 'dist/infra/local/start.js';

export interface StackProcess {
  proc: ChildProcess;
  output: string[];
  /** By service name as the ready line prints them (functions, cosmos, servicebus, azurite). */
  pids: Record<string, number>;
  /** By child service name as its "<name> pid=N listening on P" line prints them. */
  ports: Record<string, number>;
  /** http://127.0.0.1:<port> of the Functions host. */
  base: string;
}

/** Environment that puts every service on a port of its own choosing (0) and the state in `dataDir`. */
export function freePortEnv(dataDir: string): Record<string, string> {
  return {
    KARS_LOCAL_DATA_DIR: dataDir,
    KARS_LOCAL_HTTP_PORT: '0',
    KARS_LOCAL_COSMOS_PORT: '0',
    KARS_LOCAL_SERVICEBUS_PORT: '0',
    KARS_LOCAL_KEYVAULT_PORT: '0',
    KARS_LOCAL_IDENTITY_PORT: '0',
    KARS_LOCAL_AZURITE_PORT: '0',
    KARS_LOCAL_MODEL_PORT: '0',
    KARS_LOCAL_ROUTER_PORT: '0',
    KARS_LOCAL_ROUTER_B_PORT: '0',
  };
}

export async function startStackProcess(env: Record<string, string>, readyTimeoutMs = 120_000): Promise<StackProcess> {
  const proc = spawn(process.execPath, [START], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const stack: StackProcess = { proc, output, pids: {}, ports: {}, base: '' };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${output.slice(-20).join('\n')}`)), readyTimeoutMs);
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        output.push(line);
        const child = /^(\w+) pid=\d+ listening on (\d+)/.exec(line);
        if (child) stack.ports[child[1]!] = Number(child[2]);
        if (line.includes('kars local stack ready')) {
          stack.base = /ready on (http:\/\/127\.0\.0\.1:\d+)\/api/.exec(line)?.[1] ?? '';
          for (const m of line.matchAll(/(\w+) pid=(\d+)/g)) stack.pids[m[1]!] = Number(m[2]);
          clearTimeout(timer);
          resolve();
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited ${code}:\n${output.slice(-20).join('\n')}`));
    });
  });
  return stack;
}

export async function stopStackProcess(stack: StackProcess): Promise<number | null> {
  if (stack.proc.exitCode !== null || stack.proc.signalCode !== null) return stack.proc.exitCode;
  const exited = new Promise<number | null>((r) => stack.proc.once('exit', (code) => r(code)));
  stack.proc.kill('SIGTERM');
  return exited;
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every process below `pid` (children, their children ...), from one `ps` listing. */
function descendants(pid: number): number[] {
  let listing = '';
  try {
    listing = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of listing.split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (p && pp) children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const found: number[] = [];
  const todo = [pid];
  while (todo.length > 0) for (const c of children.get(todo.pop()!) ?? []) found.push(c), todo.push(c);
  return found;
}

/**
 * SIGKILL of the stack and every process it started, none of them warned. The tree is frozen (SIGSTOP) before it is
 * listed: a stack killed from a listing taken while it runs can start a router between the listing and the kill, and
 * that router outlives the "whole stack".
 */
export async function killStackTree(stack: StackProcess): Promise<void> {
  const root = stack.proc.pid!;
  const frozen = new Set<number>();
  for (let round = 0, grew = true; grew && round < 5; round++) {
    grew = false;
    for (const pid of [root, ...descendants(root), ...Object.values(stack.pids)]) {
      if (frozen.has(pid) || !alive(pid)) continue;
      process.kill(pid, 'SIGSTOP');
      frozen.add(pid);
      grew = true;
    }
  }
  for (const pid of frozen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
}
