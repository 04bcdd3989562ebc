// T1-I: the canary guard sees what child processes print. Tests start the local stack's services, brokers, jails and
// scripts as children; whatever they write to stdout/stderr is log output too. Every child_process entry point is
// wrapped (and the ESM named exports re-synced, so `import { spawn } from 'node:child_process'` gets the wrapper):
// piped output is tapped as it arrives, output a test meant to inherit or ignore is piped through the guard (and
// forwarded to this process's own stream when it was inherited).
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export type OutputTap = (where: string, chunk: string | Uint8Array) => void;
type Slot = 'tap' | 'forward' | 'drain' | 'leave';
type StdioEntry = unknown;

const PATCHED = Symbol.for('kars.canaryGuard.childProcess');
const cp = createRequire(`${process.cwd()}/`)('node:child_process') as typeof import('node:child_process') & { [PATCHED]?: true };

function expand(stdio: unknown, fallback: StdioEntry): StdioEntry[] {
  if (stdio === undefined || stdio === null) return [fallback, fallback, fallback];
  if (typeof stdio === 'string') return [stdio, stdio, stdio];
  return Array.isArray(stdio) ? [...stdio] : [stdio, stdio, stdio];
}

/** What to do with fd 1 or 2, and the stdio entry that makes it observable. */
function route(entry: StdioEntry, fd: 1 | 2): [Slot, StdioEntry] {
  if (entry === undefined || entry === null || entry === 'pipe' || entry === 'overlapped') return ['tap', entry ?? 'pipe'];
  if (entry === 'inherit' || entry === fd || entry === (fd === 1 ? process.stdout : process.stderr)) return ['forward', 'pipe'];
  if (entry === 'ignore') return ['drain', 'pipe'];
  return ['leave', entry]; // a file or another stream: not log output of this process
}

function plan(stdio: unknown, fallback: StdioEntry): { stdio: StdioEntry[]; slots: [Slot, Slot]; changed: boolean } {
  const entries = expand(stdio, fallback);
  const [s1, e1] = route(entries[1], 1);
  const [s2, e2] = route(entries[2], 2);
  const changed = e1 !== entries[1] || e2 !== entries[2];
  entries[1] = e1;
  entries[2] = e2;
  return { stdio: entries, slots: [s1, s2], changed };
}

function tapStream(stream: Readable | null | undefined, where: string, slot: Slot, tap: OutputTap, forward: (fd: 1 | 2, chunk: Uint8Array | string) => void, fd: 1 | 2): void {
  if (!stream || slot === 'leave') return;
  // Streams deliver reads through push(): wrapping it sees every chunk without consuming any, so a test reading
  // the stream itself (later, or with its own listeners) misses nothing.
  const push = stream.push;
  stream.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) tap(where, chunk);
    return push.call(this, chunk, encoding);
  };
  if (slot === 'forward') stream.on('data', (chunk: Uint8Array | string) => forward(fd, chunk));
  if (slot === 'drain') stream.resume();
  if (slot === 'forward' || slot === 'drain') (stream as Readable & { unref?: () => void }).unref?.();
}

function label(command: unknown, child: ChildProcess | undefined): string {
  return `child ${basename(String(command))}${child?.pid ? ` [${child.pid}]` : ''}`;
}

/**
 * Installs the wrappers once per process.
 * @param tap receives every chunk a child writes to stdout/stderr
 * @param forward writes a chunk to this process's stdout (1) or stderr (2) without passing the guard again
 */
export function guardChildProcesses(tap: OutputTap, forward: (fd: 1 | 2, chunk: Uint8Array | string) => void): void {
  if (cp[PATCHED]) return;
  cp[PATCHED] = true;
  const original = { spawn: cp.spawn, fork: cp.fork, exec: cp.exec, execFile: cp.execFile, spawnSync: cp.spawnSync, execSync: cp.execSync, execFileSync: cp.execFileSync };

  const watch = (child: ChildProcess, command: unknown, slots: [Slot, Slot]): ChildProcess => {
    const where = label(command, child);
    tapStream(child.stdout, `${where} stdout`, slots[0], tap, forward, 1);
    tapStream(child.stderr, `${where} stderr`, slots[1], tap, forward, 2);
    return child;
  };
  const splitArgs = (rest: unknown[]): [unknown[] | undefined, Record<string, unknown> | undefined, unknown[]] => {
    const args = Array.isArray(rest[0]) ? (rest.shift() as unknown[]) : undefined;
    const options = rest[0] !== null && typeof rest[0] === 'object' ? (rest.shift() as Record<string, unknown>) : undefined;
    return [args, options, rest];
  };

  (cp as { spawn: unknown }).spawn = function spawn(command: string, ...rest: unknown[]) {
    const [args, options] = splitArgs(rest);
    const p = plan(options?.stdio, 'pipe');
    const child = (original.spawn as (...a: unknown[]) => ChildProcess)(command, args ?? [], { ...options, stdio: p.stdio });
    return watch(child, command, p.slots);
  };
  (cp as { fork: unknown }).fork = function fork(modulePath: string, ...rest: unknown[]) {
    const [args, options] = splitArgs(rest);
    const p = plan(options?.stdio, options?.silent ? 'pipe' : 'inherit');
    if (options?.stdio === undefined) p.stdio.splice(3, 0, 'ipc');
    const child = (original.fork as (...a: unknown[]) => ChildProcess)(modulePath, args ?? [], { ...options, stdio: p.stdio });
    return watch(child, modulePath, p.slots);
  };
  // exec and execFile always pipe (they collect the output for their callback).
  const exec = function exec(...a: unknown[]) {
    return watch((original.exec as (...x: unknown[]) => ChildProcess)(...a), String(a[0]).split(' ')[0], ['tap', 'tap']);
  };
  const execFile = function execFile(...a: unknown[]) {
    return watch((original.execFile as (...x: unknown[]) => ChildProcess)(...a), a[0], ['tap', 'tap']);
  };
  // util.promisify(execFile) resolves { stdout, stderr } through the original's custom form; keep that contract.
  for (const fn of [exec, execFile]) {
    Object.defineProperty(fn, promisify.custom, {
      value: (...a: unknown[]) => {
        let child: ChildProcess | undefined;
        const done = new Promise((resolve, reject) => {
          child = fn(...a, (err: (Error & Record<string, unknown>) | null, stdout: unknown, stderr: unknown) =>
            err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr }));
        });
        return Object.assign(done, { child });
      },
    });
  }
  (cp as { exec: unknown }).exec = exec;
  (cp as { execFile: unknown }).execFile = execFile;

  (cp as { spawnSync: unknown }).spawnSync = function spawnSync(command: string, ...rest: unknown[]) {
    const [args, options] = splitArgs(rest);
    const p = plan(options?.stdio, 'pipe');
    const r = (original.spawnSync as (...a: unknown[]) => ReturnType<typeof cp.spawnSync>)(command, args ?? [], {
      ...options,
      stdio: p.stdio,
      ...(p.changed ? { maxBuffer: Infinity } : {}),
    });
    const where = label(command, undefined);
    for (const [i, slot] of p.slots.entries()) {
      const fd = (i + 1) as 1 | 2;
      const out = r.output?.[fd] as string | Buffer | null | undefined;
      if (out === null || out === undefined || slot === 'leave') continue;
      tap(`${where} ${fd === 1 ? 'stdout' : 'stderr'}`, out);
      if (slot === 'forward') forward(fd, out);
      if (slot === 'forward' || slot === 'drain') {
        // The caller asked for no pipe here: hand back what spawnSync gives for an inherited or ignored fd.
        (r as { output: unknown[] }).output[fd] = null;
        (r as unknown as Record<string, unknown>)[fd === 1 ? 'stdout' : 'stderr'] = null;
      }
    }
    return r;
  };
  // execSync/execFileSync return stdout only; an inherited stdout/stderr would bypass the guard, so it is refused.
  for (const name of ['execSync', 'execFileSync'] as const) {
    const fn = original[name] as (...a: unknown[]) => string | Buffer;
    (cp as Record<string, unknown>)[name] = function (...a: unknown[]) {
      const options = a.find((x, i) => i > 0 && x !== null && typeof x === 'object' && !Array.isArray(x)) as { stdio?: unknown } | undefined;
      const entries = expand(options?.stdio, 'pipe');
      for (const fd of [1, 2] as const) {
        if (route(entries[fd], fd)[0] === 'forward') throw new TypeError(`canary guard: ${name} with an inherited fd ${fd} bypasses the guard; use spawnSync`);
      }
      const where = label(name === 'execSync' ? String(a[0]).split(' ')[0] : a[0], undefined);
      try {
        const out = fn(...a);
        if (out !== null && out !== undefined) tap(`${where} stdout`, out);
        return out;
      } catch (e) {
        const err = e as { stdout?: string | Buffer; stderr?: string | Buffer };
        if (err.stdout) tap(`${where} stdout`, err.stdout);
        if (err.stderr) tap(`${where} stderr`, err.stderr);
        throw e;
      }
    };
  }
  syncBuiltinESMExports();
}
