// T1-R: signs checkpoints with the Ed25519 key kept in the secret store (Key Vault in Azure), fetched by name.
import type { KeyObject } from 'node:crypto';
import { KarsError, isKarsError } from '../errors';
import type { Clock } from '../ports/clock.port';
import type { SecretSource } from '../ports/secret-source.port';
import { signCheckpoint } from './checkpoint';
import type { Checkpoint, CheckpointStatement } from './checkpoint';
import { parseEd25519PrivateKey } from './ed25519-keys';

export interface CheckpointSigner {
  /** @throws KarsError SECRET_NOT_FOUND | SECRET_UNAVAILABLE | CONFIG_INVALID */
  sign(statement: CheckpointStatement, options?: { abortSignal?: AbortSignal }): Promise<Checkpoint>;
}

export interface SecretCheckpointSignerOptions {
  /** Name of the secret holding the key (PKCS#8 PEM, or base64 of the 32-byte seed or of the PKCS#8 DER). */
  secretName: string;
  clock: Clock;
  /** How long a fetched key is reused before the secret is read again (picks up rotation). Default 5 minutes. */
  keyCacheTtlMs?: number;
}

export function createSecretCheckpointSigner(secrets: SecretSource, options: SecretCheckpointSignerOptions): CheckpointSigner {
  const ttlMs = options.keyCacheTtlMs ?? 5 * 60_000;
  let cached: { key: KeyObject; fetchedAtMs: number } | undefined;
  let inflight: Promise<KeyObject> | undefined;

  const loadKey = async (abortSignal?: AbortSignal): Promise<KeyObject> => {
    const now = options.clock.nowMs();
    if (cached && now - cached.fetchedAtMs < ttlMs) return cached.key;
    // One fetch at a time: a burst of checkpoints must not fan out into a burst of Key Vault reads.
    inflight ??= (async () => {
      try {
        const secret = await secrets.getSecret(options.secretName, { abortSignal });
        const key = parseEd25519PrivateKey(secret.reveal());
        cached = { key, fetchedAtMs: options.clock.nowMs() };
        return key;
      } catch (e) {
        if (isKarsError(e)) throw e;
        throw new KarsError('SECRET_UNAVAILABLE', 'checkpoint signing key could not be read');
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  return {
    async sign(statement, signOptions) {
      return signCheckpoint(await loadKey(signOptions?.abortSignal), statement);
    },
  };
}
