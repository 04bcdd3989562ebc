// The standalone local Cosmos process: the local stack spawns it, waits for its line, uses it, and kills it by pid.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { redact } from '../../../core/secrets/redacted';
import { LOCAL_COSMOS_DEV_KEY } from '../../../infra/local/cosmos/start-cosmos-server';

const ROOT = join(__dirname, '..', '..', '..');
const REGISTER = join(ROOT, 'tests', 'integration', 'audit', 'support', 'ts-register.cjs');
const MAIN = join(ROOT, 'infra', 'local', 'cosmos', 'main.ts');

describe('infra/local/cosmos/main.ts', () => {
  it('prints its port, serves the SDK, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['-r', REGISTER, MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /cosmos server listening on (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
        setTimeout(() => reject(new Error('no listening line within 20 s')), 20_000);
      });
      const client = createCosmosClient({ endpoint: `http://127.0.0.1:${port}`, key: redact(LOCAL_COSMOS_DEV_KEY) });
      const containers = await ensureCosmosContainers(client, 'main-test', [{ id: 'c' }]);
      await containers.get('c')!.items.create({ id: 'x', pk: 'p' });
      expect((await containers.get('c')!.item('x', 'p').read()).statusCode).toBe(200);
      client.dispose();
      const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses unknown arguments with exit code 1', async () => {
    const child = spawn(process.execPath, ['-r', REGISTER, MAIN, '--bogus'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(err).toContain('unknown argument');
  });
});
