// SecretSource over the real @azure/keyvault-secrets SecretClient: values wrapped in Redacted, a short in-process
// cache (webhook verification must not call the vault per request), SDK errors translated to SECRET_* codes.
import { rootCertificates } from 'node:tls';
import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { KarsError, isKarsError } from '../../core/errors';
import { systemClock, type Clock } from '../../core/ports/clock.port';
import type { GetSecretOptions, SecretSource } from '../../core/ports/secret-source.port';
import { redact, type Redacted } from '../../core/secrets/redacted';
import { isLoopbackUrl } from '../identity/loopback';
import { assertSecretName } from './secret-name';

export const DEFAULT_SECRET_CACHE_TTL_MS = 30_000;

export interface CreateSecretClientOptions {
  /** Extra CA (the local dev CA) trusted by this client only. */
  caCertPem?: string;
  maxRetries?: number;
}

/**
 * The SDK checks that the challenge's resource (vault.azure.net) matches the vault's host; a loopback stand-in can
 * never match, so the check is skipped for loopback vault URLs only, where no real vault can live.
 * @throws KarsError CONFIG_INVALID when the URL is not https.
 */
export function createSecretClient(vaultUrl: string, credential: TokenCredential, options: CreateSecretClientOptions = {}): SecretClient {
  if (!/^https:\/\//.test(vaultUrl)) throw new KarsError('CONFIG_INVALID', 'KEY_VAULT_URL must be an https URL');
  return new SecretClient(vaultUrl, credential, {
    disableChallengeResourceVerification: isLoopbackUrl(vaultUrl),
    retryOptions: { maxRetries: options.maxRetries ?? 3 },
    ...(options.caCertPem ? { tlsOptions: { ca: [...rootCertificates, options.caCertPem] } } : {}),
  });
}

export interface KeyVaultSecretSourceOptions {
  /** How long a read value is reused before asking the vault again (default 30 s; 0 disables the cache). */
  cacheTtlMs?: number;
  maxCacheEntries?: number;
  clock?: Clock;
}

export function createKeyVaultSecretSource(client: SecretClient, options: KeyVaultSecretSourceOptions = {}): SecretSource {
  const ttlMs = options.cacheTtlMs ?? DEFAULT_SECRET_CACHE_TTL_MS;
  const maxEntries = options.maxCacheEntries ?? 1000;
  const clock = options.clock ?? systemClock;
  // Key Vault names are case-insensitive, so the cache is too.
  const cache = new Map<string, { value: Redacted<string>; expiresAtMs: number }>();
  const inflight = new Map<string, Promise<Redacted<string>>>();

  const remember = (key: string, value: Redacted<string>) => {
    if (ttlMs <= 0) return;
    cache.delete(key);
    cache.set(key, { value, expiresAtMs: clock.nowMs() + ttlMs });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  return {
    async getSecret(name: string, getOptions: GetSecretOptions = {}): Promise<Redacted<string>> {
      assertSecretName(name);
      const signal = getOptions.abortSignal;
      if (signal?.aborted) throw new KarsError('SECRET_UNAVAILABLE', `reading secret ${name} aborted`);
      const key = name.toLowerCase();
      const hit = cache.get(key);
      if (hit && clock.nowMs() < hit.expiresAtMs) return hit.value;
      let p = inflight.get(key);
      if (!p) {
        // Concurrent readers share one request, so it is not tied to any one caller's signal; each caller
        // still stops waiting when its own signal fires.
        p = client.getSecret(name)
          .then((s) => {
            if (typeof s.value !== 'string') throw new KarsError('SECRET_UNAVAILABLE', `secret ${name} has no value`);
            const value = redact(s.value);
            remember(key, value);
            return value;
          })
          .catch((e: unknown) => { throw translateKeyVaultError(e, name, 'reading'); })
          .finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return raceAbort(p, signal, `reading secret ${name} aborted`);
    },

    async setSecret(name: string, value: Redacted<string>, setOptions: GetSecretOptions = {}): Promise<void> {
      assertSecretName(name);
      const signal = setOptions.abortSignal;
      if (signal?.aborted) throw new KarsError('SECRET_UNAVAILABLE', `writing secret ${name} aborted`);
      try {
        await client.setSecret(name, value.reveal(), signal ? { abortSignal: signal } : {});
      } catch (e) {
        throw translateKeyVaultError(e, name, 'writing');
      }
      remember(name.toLowerCase(), value);
    },
  };
}

/**
 * SDK error → KarsError. The SDK error itself is not attached as `cause`: it carries the request, whose headers
 * include the bearer token, and anything that logs causes deeply would print it.
 */
export function translateKeyVaultError(e: unknown, name: string, action: 'reading' | 'writing'): KarsError {
  if (isKarsError(e)) return e;
  const err = e as { name?: unknown; statusCode?: unknown; code?: unknown };
  const errName = typeof err?.name === 'string' ? err.name : 'Error';
  const status = typeof err?.statusCode === 'number' ? err.statusCode : undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (status === 404) return new KarsError('SECRET_NOT_FOUND', `secret ${name} not found`);
  if (errName === 'AbortError') return new KarsError('SECRET_UNAVAILABLE', `${action} secret ${name} aborted`);
  const why = status !== undefined ? `vault answered ${status}${code ? ` ${code}` : ''}` :
    errName === 'CredentialUnavailableError' || errName === 'AuthenticationError' ? `no token (${errName})` :
    `${errName}${code ? ` ${code}` : ''}`;
  return new KarsError('SECRET_UNAVAILABLE', `${action} secret ${name} failed: ${why}`);
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, message: string): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new KarsError('SECRET_UNAVAILABLE', message));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
