// The local (file / env) and memory SecretSources against the shared contract, plus the file adapter's own promises.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKarsError } from '../../../core/errors';
import { redact } from '../../../core/secrets/redacted';
import { createLocalSecretSource } from '../../../adapters/local-secrets/local-secret-source';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { describeSecretSourceContract } from '../../contracts/secret-source.contract';
import { settledCode } from '../../support/settled-code';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'kars-local-secrets-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

describeSecretSourceContract('memory', async (seed) => ({ source: createMemorySecretSource(seed) }));

describeSecretSourceContract('local file', async (seed) => {
  const dir = await tempDir();
  const filePath = path.join(dir, 'secrets.json');
  await fs.writeFile(filePath, JSON.stringify(seed));
  return { source: createLocalSecretSource({ filePath }) };
});

describeSecretSourceContract('local file (missing at start) + env', async (seed) => {
  const dir = await tempDir();
  const env = Object.fromEntries(Object.entries(seed).map(([k, v]) => [`KARS_SECRET_${k.toUpperCase().replace(/-/g, '_')}`, v]));
  return { source: createLocalSecretSource({ filePath: path.join(dir, 'nested', 'secrets.json'), env }) };
});

describe('local secret source specifics', () => {
  it('writes the file with mode 0600 and keeps other entries when rotating one', async () => {
    const dir = await tempDir();
    const filePath = path.join(dir, 'secrets.json');
    await fs.writeFile(filePath, JSON.stringify({ keep: 'kept-value', rotate: 'old' }));
    const source = createLocalSecretSource({ filePath });
    await source.setSecret('Rotate', redact('new-value'));
    const stat = await fs.stat(filePath);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(filePath, 'utf8'))).toEqual({ keep: 'kept-value', Rotate: 'new-value' });
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('serializes concurrent writes so no update is lost', async () => {
    const dir = await tempDir();
    const source = createLocalSecretSource({ filePath: path.join(dir, 'secrets.json') });
    await Promise.all(Array.from({ length: 20 }, (_, i) => source.setSecret(`s-${i}`, redact(`v-${i}`))));
    const stored = JSON.parse(await fs.readFile(path.join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(stored).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s-${i}`).sort());
    for (let i = 0; i < 20; i++) expect((await source.getSecret(`s-${i}`)).reveal()).toBe(`v-${i}`);
  });

  it('picks up a hand edit of the file without a restart', async () => {
    const dir = await tempDir();
    const filePath = path.join(dir, 'secrets.json');
    await fs.writeFile(filePath, JSON.stringify({ edited: 'before' }));
    const source = createLocalSecretSource({ filePath });
    expect((await source.getSecret('edited')).reveal()).toBe('before');
    await fs.writeFile(filePath, JSON.stringify({ edited: 'after-the-edit' }));
    expect((await source.getSecret('edited')).reveal()).toBe('after-the-edit');
  });

  it('prefers the file over the environment', async () => {
    const dir = await tempDir();
    const filePath = path.join(dir, 'secrets.json');
    await fs.writeFile(filePath, JSON.stringify({ both: 'from-file' }));
    const source = createLocalSecretSource({ filePath, env: { KARS_SECRET_BOTH: 'from-env', KARS_SECRET_ONLY_ENV: 'env-only' } });
    expect((await source.getSecret('both')).reveal()).toBe('from-file');
    expect((await source.getSecret('only-env')).reveal()).toBe('env-only');
  });

  it('is read-only when backed by the environment alone', async () => {
    const source = createLocalSecretSource({ env: { KARS_SECRET_X: 'v' } });
    expect(await settledCode(source.setSecret('x', redact('w')))).toBe('SECRET_UNAVAILABLE');
    expect((await source.getSecret('x')).reveal()).toBe('v');
  });

  it('reports a corrupt file as SECRET_UNAVAILABLE without quoting its content', async () => {
    const dir = await tempDir();
    const filePath = path.join(dir, 'secrets.json');
    const leaked = 'canary-corrupt-5b7f0e1c9d';
    await fs.writeFile(filePath, `{ "a": "${leaked}", oops }`);
    const source = createLocalSecretSource({ filePath });
    const err = await source.getSecret('a').then(() => undefined, (e: Error) => e);
    expect(err && isKarsError(err) ? err.code : err).toBe('SECRET_UNAVAILABLE');
    expect(err?.message).not.toContain(leaked);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err ?? {}))).not.toContain(leaked);
  });

  it('refuses to start without a file or an env', () => {
    expect(() => createLocalSecretSource({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
