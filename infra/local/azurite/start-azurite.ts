// Starts Azurite (the npm Azure Storage emulator) as a child process in its own process group, waits until it
// answers, and stops the whole group; a watchdog in the child ends it if this process dies, so nothing is orphaned.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { devStorageConnectionString } from './dev-storage-account';

export interface StartAzuriteOptions {
  /** Persistent workspace directory (created if missing). Default: in-memory, data is lost on stop. */
  location?: string;
  /** Default 10000; 0 picks a free port. */
  blobPort?: number;
  /** Default 10001; 0 picks a free port. */
  queuePort?: number;
  /** Default 10002; 0 picks a free port. */
  tablePort?: number;
  host?: string;
  /** Default 30000 ms. */
  readyTimeoutMs?: number;
  /** Receives Azurite's output lines (it logs no secrets with --silent: start/stop notices only). */
  onLine?: (line: string) => void;
}

export interface AzuriteHandle {
  /** DEV-ONLY connection string (public Azurite key) with explicit endpoints; usable as AzureWebJobsStorage. */
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  host: string;
  pid: number;
  /** SIGTERM to the process group (Azurite flushes a persistent workspace), SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

// Runs inside the Azurite process before its CLI: the IPC channel must not keep it alive, and when the parent goes
// away (crash, kill -9) the channel disconnects and Azurite shuts down cleanly instead of lingering.
const WATCHDOG =
  'data:text/javascript,' +
  encodeURIComponent(
    "if(process.channel)process.channel.unref();process.on('disconnect',()=>process.kill(process.pid,'SIGTERM'));",
  );

function azuriteCli(): string {
  // require('azurite') fails (it imports 'vscode'); the CLI entry is what `npx azurite` runs.
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^:]+:(\d+)/;

function probeHttp(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolveProbe, reject) => {
    const req = request({ host, port, path: '/devstoreaccount1?comp=properties&restype=service', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolveProbe();
    });
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', reject);
    req.end();
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Group already gone.
  }
}

/** @throws Error when Azurite exits or stays silent before it is ready (e.g. a port in use). */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteHandle> {
  const host = options.host ?? '127.0.0.1';
  const args = [
    '--import',
    WATCHDOG,
    azuriteCli(),
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--blobHost', host, '--queueHost', host, '--tableHost', host,
    '--blobPort', String(options.blobPort ?? 10000),
    '--queuePort', String(options.queuePort ?? 10001),
    '--tablePort', String(options.tablePort ?? 10002),
  ];
  let cwd = tmpdir();
  if (options.location !== undefined) {
    // --location and --inMemoryPersistence are mutually exclusive in Azurite.
    cwd = resolve(options.location);
    mkdirSync(cwd, { recursive: true });
    args.push('--location', cwd);
  } else {
    args.push('--inMemoryPersistence');
  }

  const child = spawn(process.execPath, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const exited = once(child, 'exit');
  const ports: Partial<Record<'Blob' | 'Queue' | 'Table', number>> = {};
  let lastLine = '';

  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error('Azurite did not become ready in time')), options.readyTimeoutMs ?? 30_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trimEnd();
        buffered = buffered.slice(nl + 1);
        if (line) lastLine = line;
        options.onLine?.(line);
        const m = LISTENING.exec(line);
        if (m) ports[m[1] as 'Blob' | 'Queue' | 'Table'] = Number(m[2]);
        if (ports.Blob && ports.Queue && ports.Table) {
          clearTimeout(timer);
          resolveReady();
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (${signal ?? code}) before it was ready: ${lastLine.slice(0, 200)}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      // Anything Azurite might have started in its group goes too.
      killGroup(child, 'SIGKILL');
    })();
    return stopped;
  };

  try {
    await ready;
    // Listening is logged before the first request is served; one real round trip proves it answers.
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await probeHttp(host, ports.Table!, 1000);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }

  // A forgotten handle must not keep this process alive; the watchdog then stops Azurite when we exit.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  child.channel?.unref();

  const p = { blobPort: ports.Blob!, queuePort: ports.Queue!, tablePort: ports.Table! };
  return { connectionString: devStorageConnectionString(p, host), ...p, host, pid: child.pid!, stop };
}
