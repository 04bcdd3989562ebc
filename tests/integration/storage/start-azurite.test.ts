// Azurite launcher: answers on free ports with a usable explicit-endpoint connection string, persists a --location
// workspace across restarts, and leaves no process behind on stop() or when its parent is killed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { DEV_STORAGE_ACCOUNT_KEY } from '../../../infra/local/azurite/dev-storage-account';

const started: AzuriteHandle[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const h of started) await h.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

const table = (h: AzuriteHandle, name: string) =>
  TableClient.fromConnectionString(h.connectionString, name, { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } });

describe('startAzurite', () => {
  it('starts in memory on free ports with an explicit-endpoint dev connection string, and stop() ends it', async () => {
    const h = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
    started.push(h);
    expect(new Set([h.blobPort, h.queuePort, h.tablePort]).size).toBe(3);
    expect(h.connectionString).toContain(`TableEndpoint=http://127.0.0.1:${h.tablePort}/devstoreaccount1`);
    expect(h.connectionString).toContain(`BlobEndpoint=http://127.0.0.1:${h.blobPort}/devstoreaccount1`);
    expect(h.connectionString).toContain(`QueueEndpoint=http://127.0.0.1:${h.queuePort}/devstoreaccount1`);
    expect(h.connectionString).toContain(`AccountKey=${DEV_STORAGE_ACCOUNT_KEY}`);
    const t = table(h, 'launcher');
    await t.createTable();
    await t.createEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
    expect((await t.getEntity<{ v: number }>('p', 'r')).v).toBe(1);
    await h.stop();
    await h.stop();
    expect(alive(h.pid)).toBe(false);
    await expect(t.getEntity('p', 'r')).rejects.toBeDefined();
  });

  it('keeps a --location workspace across a restart', async () => {
    const location = mkdtempSync(join(tmpdir(), 'kars-azurite-loc-'));
    dirs.push(location);
    const a = await startAzurite({ location, blobPort: 0, queuePort: 0, tablePort: 0 });
    started.push(a);
    await table(a, 'persisted').createTable();
    await table(a, 'persisted').createEntity({ partitionKey: 'p', rowKey: 'r', v: 42 });
    await a.stop();
    const b = await startAzurite({ location, blobPort: 0, queuePort: 0, tablePort: 0 });
    started.push(b);
    expect((await table(b, 'persisted').getEntity<{ v: number }>('p', 'r')).v).toBe(42);
    await b.stop();
  });

  it('reports a port already in use instead of hanging', async () => {
    const a = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
    started.push(a);
    await expect(startAzurite({ blobPort: a.blobPort, queuePort: 0, tablePort: 0, readyTimeoutMs: 15_000 })).rejects.toThrow(/exited/);
    await a.stop();
  });

  it('does not outlive a parent process that is killed with SIGKILL', async () => {
    // Run the real launcher in a separate Node process (transpiled to CommonJS inside the repo so it resolves
    // node_modules), then kill that process the hard way.
    const out = join(process.cwd(), '.kars-local', `azurite-parent-${process.pid}`);
    mkdirSync(out, { recursive: true });
    dirs.push(out);
    for (const f of ['start-azurite', 'dev-storage-account']) {
      const src = readFileSync(join(process.cwd(), 'infra/local/azurite', `${f}.ts`), 'utf8');
      const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      writeFileSync(join(out, `${f}.js`), js.outputText);
    }
    const parent = spawn(
      process.execPath,
      ['-e', "require('./start-azurite.js').startAzurite({blobPort:0,queuePort:0,tablePort:0}).then(h=>{console.log('PID '+h.pid);setInterval(()=>{},1000)})"],
      { cwd: out, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      let buf = '';
      parent.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /PID (\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', () => reject(new Error('parent exited early')));
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await waitGone(pid, 10_000)).toBe(true);
  });
});
