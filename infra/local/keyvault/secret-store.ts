// Versioned secret store behind the local Key Vault stand-in, with optional file persistence so secrets and
// their rotations survive a restart of the local stack. Dev-only: values are stored in plain JSON (mode 0600).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface SecretAttributes {
  enabled: boolean;
  /** Unix seconds, as Key Vault sends them. */
  created: number;
  updated: number;
  nbf?: number;
  exp?: number;
}

export interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: SecretAttributes;
}

export interface StoredSecret {
  name: string;
  /** Oldest first; the last one is "latest". */
  versions: SecretVersion[];
}

export interface DeletedSecret {
  secret: StoredSecret;
  deletedDate: number;
  scheduledPurgeDate: number;
}

interface State {
  secrets: Record<string, StoredSecret>;
  deleted: Record<string, DeletedSecret>;
}

export interface SetSecretInput {
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export type SetOutcome = { ok: true; version: SecretVersion } | { ok: false; reason: 'deleted' };

const FILE = 'keyvault.json';
const SOFT_DELETE_DAYS = 90;

export class SecretStore {
  #state: State = { secrets: {}, deleted: {} };
  #file: string | undefined;
  #writes: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined) {
    this.#file = file;
  }

  /** Loads `<dataDir>/keyvault.json` when dataDir is given; seeds only names that do not exist yet. */
  static async open(options: { dataDir?: string; seed?: Record<string, string> } = {}): Promise<SecretStore> {
    const store = new SecretStore(options.dataDir ? path.join(path.resolve(options.dataDir), FILE) : undefined);
    if (store.#file) {
      await fs.mkdir(path.dirname(store.#file), { recursive: true, mode: 0o700 });
      const text = await fs.readFile(store.#file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (text !== undefined) {
        let parsed: Partial<State>;
        try {
          parsed = JSON.parse(text) as Partial<State>;
        } catch {
          // Never rethrow the parser's message: it quotes the file, i.e. secret values.
          throw new Error(`${store.#file} is not valid JSON`);
        }
        store.#state = { secrets: parsed.secrets ?? {}, deleted: parsed.deleted ?? {} };
      }
    }
    let seeded = false;
    for (const [name, value] of Object.entries(options.seed ?? {})) {
      const key = name.toLowerCase();
      if (store.#state.secrets[key] || store.#state.deleted[key]) continue;
      store.#append(name, { value });
      seeded = true;
    }
    if (seeded) await store.#persist();
    return store;
  }

  get(name: string, version?: string): SecretVersion | undefined {
    const secret = this.#state.secrets[name.toLowerCase()];
    if (!secret) return undefined;
    if (!version) return secret.versions[secret.versions.length - 1];
    return secret.versions.find((v) => v.version === version.toLowerCase());
  }

  nameOf(name: string): string | undefined {
    return this.#state.secrets[name.toLowerCase()]?.name;
  }

  list(): StoredSecret[] {
    return Object.values(this.#state.secrets).sort((a, b) => a.name.localeCompare(b.name));
  }

  versions(name: string): SecretVersion[] | undefined {
    return this.#state.secrets[name.toLowerCase()]?.versions;
  }

  async set(name: string, input: SetSecretInput): Promise<SetOutcome> {
    // Key Vault refuses to reuse the name of a soft-deleted secret until it is purged or recovered.
    if (this.#state.deleted[name.toLowerCase()]) return { ok: false, reason: 'deleted' };
    const version = this.#append(name, input);
    await this.#persist();
    return { ok: true, version };
  }

  async update(name: string, version: string | undefined, patch: Omit<Partial<SetSecretInput>, 'value'>): Promise<SecretVersion | undefined> {
    const v = this.get(name, version);
    if (!v) return undefined;
    if (patch.contentType !== undefined) v.contentType = patch.contentType;
    if (patch.tags !== undefined) v.tags = patch.tags;
    if (patch.enabled !== undefined) v.attributes.enabled = patch.enabled;
    if (patch.nbf !== undefined) v.attributes.nbf = patch.nbf;
    if (patch.exp !== undefined) v.attributes.exp = patch.exp;
    v.attributes.updated = nowSec();
    await this.#persist();
    return v;
  }

  async delete(name: string): Promise<DeletedSecret | undefined> {
    const key = name.toLowerCase();
    const secret = this.#state.secrets[key];
    if (!secret) return undefined;
    delete this.#state.secrets[key];
    const deletedDate = nowSec();
    const entry = { secret, deletedDate, scheduledPurgeDate: deletedDate + SOFT_DELETE_DAYS * 86_400 };
    this.#state.deleted[key] = entry;
    await this.#persist();
    return entry;
  }

  getDeleted(name: string): DeletedSecret | undefined {
    return this.#state.deleted[name.toLowerCase()];
  }

  listDeleted(): DeletedSecret[] {
    return Object.values(this.#state.deleted).sort((a, b) => a.secret.name.localeCompare(b.secret.name));
  }

  async purge(name: string): Promise<boolean> {
    const key = name.toLowerCase();
    if (!this.#state.deleted[key]) return false;
    delete this.#state.deleted[key];
    await this.#persist();
    return true;
  }

  async recover(name: string): Promise<StoredSecret | undefined> {
    const key = name.toLowerCase();
    const entry = this.#state.deleted[key];
    if (!entry || this.#state.secrets[key]) return undefined;
    delete this.#state.deleted[key];
    this.#state.secrets[key] = entry.secret;
    await this.#persist();
    return entry.secret;
  }

  #append(name: string, input: SetSecretInput): SecretVersion {
    const key = name.toLowerCase();
    const secret = (this.#state.secrets[key] ??= { name, versions: [] });
    const now = nowSec();
    const version: SecretVersion = {
      version: randomBytes(16).toString('hex'),
      value: input.value,
      ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
      ...(input.tags !== undefined ? { tags: input.tags } : {}),
      attributes: {
        enabled: input.enabled ?? true, created: now, updated: now,
        ...(input.nbf !== undefined ? { nbf: input.nbf } : {}),
        ...(input.exp !== undefined ? { exp: input.exp } : {}),
      },
    };
    secret.versions.push(version);
    return version;
  }

  /** Whole-file write via temp + rename, serialized, so a crash never leaves a truncated store. */
  #persist(): Promise<void> {
    const file = this.#file;
    if (!file) return Promise.resolve();
    const snapshot = JSON.stringify(this.#state);
    this.#writes = this.#writes.catch(() => undefined).then(async () => {
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, snapshot, { mode: 0o600 });
      await fs.rename(tmp, file);
    });
    return this.#writes;
  }
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}
