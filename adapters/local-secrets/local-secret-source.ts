// SecretSource for local mode without a vault: a JSON file `{ "name": "value" }` (read/write, 0600) and/or
// environment variables KARS_SECRET_<NAME> (read-only). Same port and name rules as the Key Vault adapter.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { KarsError } from '../../core/errors';
import type { GetSecretOptions, SecretSource } from '../../core/ports/secret-source.port';
import { redact, type Redacted } from '../../core/secrets/redacted';
import { assertSecretName } from '../key-vault/secret-name';

export const DEFAULT_SECRET_ENV_PREFIX = 'KARS_SECRET_';

export interface LocalSecretSourceOptions {
  /** JSON file of name → value; setSecret writes here. A missing file counts as empty. */
  filePath?: string;
  /** Env-like bag consulted after the file: `<prefix><NAME with - as _, upper case>`. */
  env?: Readonly<Record<string, string | undefined>>;
  envPrefix?: string;
}

export function createLocalSecretSource(options: LocalSecretSourceOptions): SecretSource {
  const filePath = options.filePath ? path.resolve(options.filePath) : undefined;
  if (!filePath && !options.env) throw new KarsError('CONFIG_INVALID', 'local secrets need a file path or an env');
  const prefix = options.envPrefix ?? DEFAULT_SECRET_ENV_PREFIX;
  let parsed: { mtimeMs: number; size: number; map: Map<string, { name: string; value: string }> } | undefined;
  let writes: Promise<void> = Promise.resolve();

  /** Re-reads the file only when it changed on disk, so edits by hand are picked up without a restart. */
  async function readFile(): Promise<Map<string, { name: string; value: string }>> {
    if (!filePath) return new Map();
    let stat;
    try {
      stat = await fs.stat(filePath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new KarsError('SECRET_UNAVAILABLE', `secrets file unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (parsed && parsed.mtimeMs === stat.mtimeMs && parsed.size === stat.size) return parsed.map;
    let obj: unknown;
    try {
      obj = JSON.parse(await fs.readFile(filePath, 'utf8'));
    } catch {
      // The parser's message quotes the file, i.e. secret values: say only that it is broken.
      throw new KarsError('SECRET_UNAVAILABLE', 'secrets file is not valid JSON');
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new KarsError('SECRET_UNAVAILABLE', 'secrets file must hold a JSON object of name → string');
    }
    const map = new Map<string, { name: string; value: string }>();
    for (const [name, value] of Object.entries(obj)) {
      if (typeof value === 'string') map.set(name.toLowerCase(), { name, value });
    }
    parsed = { mtimeMs: stat.mtimeMs, size: stat.size, map };
    return map;
  }

  return {
    async getSecret(name: string, getOptions: GetSecretOptions = {}): Promise<Redacted<string>> {
      assertSecretName(name);
      if (getOptions.abortSignal?.aborted) throw new KarsError('SECRET_UNAVAILABLE', `reading secret ${name} aborted`);
      const fromFile = (await readFile()).get(name.toLowerCase());
      if (fromFile) return redact(fromFile.value);
      const fromEnv = options.env?.[prefix + name.toUpperCase().replace(/-/g, '_')];
      if (fromEnv !== undefined) return redact(fromEnv);
      throw new KarsError('SECRET_NOT_FOUND', `secret ${name} not found`);
    },

    async setSecret(name: string, value: Redacted<string>, setOptions: GetSecretOptions = {}): Promise<void> {
      assertSecretName(name);
      if (setOptions.abortSignal?.aborted) throw new KarsError('SECRET_UNAVAILABLE', `writing secret ${name} aborted`);
      if (!filePath) throw new KarsError('SECRET_UNAVAILABLE', 'environment secrets are read-only; configure a secrets file');
      const target = filePath;
      // Read-modify-write, serialized in this process, then temp + rename so a crash never truncates the file.
      const run = writes.catch(() => undefined).then(async () => {
        const current = await readFile();
        const out: Record<string, string> = {};
        for (const { name: n, value: v } of current.values()) if (n.toLowerCase() !== name.toLowerCase()) out[n] = v;
        out[name] = value.reveal();
        await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
        const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        try {
          await fs.writeFile(tmp, JSON.stringify(out, null, 2) + '\n', { mode: 0o600 });
          await fs.rename(tmp, target);
        } catch (e) {
          await fs.rm(tmp, { force: true });
          throw new KarsError('SECRET_UNAVAILABLE', `secrets file not writable (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
        }
        parsed = undefined;
      });
      writes = run;
      await run;
    },
  };
}
