// In-memory SecretSource for unit tests and benchmarks only; same name rules and errors as the real adapters.
import { KarsError } from '../../core/errors';
import type { GetSecretOptions, SecretSource } from '../../core/ports/secret-source.port';
import { redact, type Redacted } from '../../core/secrets/redacted';
import { assertSecretName } from '../key-vault/secret-name';

export interface MemorySecretSource extends SecretSource {
  /** How many versions a secret has had (rotation tests); 0 when unknown. */
  versionCount(name: string): number;
}

export function createMemorySecretSource(initial: Record<string, string> = {}): MemorySecretSource {
  // Case-insensitive like Key Vault; every set appends a version.
  const versions = new Map<string, Redacted<string>[]>();
  for (const [name, value] of Object.entries(initial)) {
    assertSecretName(name);
    versions.set(name.toLowerCase(), [redact(value)]);
  }
  const checkAbort = (signal: AbortSignal | undefined, what: string) => {
    if (signal?.aborted) throw new KarsError('SECRET_UNAVAILABLE', `${what} aborted`);
  };
  return {
    async getSecret(name: string, options: GetSecretOptions = {}) {
      assertSecretName(name);
      checkAbort(options.abortSignal, `reading secret ${name}`);
      const list = versions.get(name.toLowerCase());
      const latest = list?.[list.length - 1];
      if (!latest) throw new KarsError('SECRET_NOT_FOUND', `secret ${name} not found`);
      return latest;
    },
    async setSecret(name: string, value: Redacted<string>, options: GetSecretOptions = {}) {
      assertSecretName(name);
      checkAbort(options.abortSignal, `writing secret ${name}`);
      const key = name.toLowerCase();
      versions.set(key, [...(versions.get(key) ?? []), value]);
    },
    versionCount: (name) => versions.get(name.toLowerCase())?.length ?? 0,
  };
}
