// Secrets (webhook keys, signing keys) are read by name; config never holds values.
import type { Redacted } from '../secrets/redacted';

export interface GetSecretOptions {
  abortSignal?: AbortSignal;
}

export interface SecretSource {
  /** @throws KarsError SECRET_NOT_FOUND | SECRET_UNAVAILABLE */
  getSecret(name: string, options?: GetSecretOptions): Promise<Redacted<string>>;
  /** Creates a new version of the secret (rotation). @throws KarsError SECRET_UNAVAILABLE */
  setSecret(name: string, value: Redacted<string>, options?: GetSecretOptions): Promise<void>;
}
