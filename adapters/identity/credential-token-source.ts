// TokenSource over an @azure/identity TokenCredential: caches per scope and refreshes before expiry, so callers
// always hold a token with time left and the identity provider sees one request per scope per refresh window.
import type { AccessToken as SdkAccessToken, TokenCredential } from '@azure/identity';
import { KarsError, isKarsError } from '../../core/errors';
import { systemClock, type Clock } from '../../core/ports/clock.port';
import { silentLogger, type Logger } from '../../core/ports/logger.port';
import type { AccessToken, TokenSource } from '../../core/ports/token-source.port';
import { redact } from '../../core/secrets/redacted';

export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

export interface CredentialTokenSourceOptions {
  clock?: Clock;
  /** Refresh when less than this is left (default 5 min). */
  refreshMarginMs?: number;
  logger?: Logger;
}

export function createCredentialTokenSource(credential: TokenCredential, options: CredentialTokenSourceOptions = {}): TokenSource {
  const clock = options.clock ?? systemClock;
  const marginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  if (!Number.isFinite(marginMs) || marginMs < 0) throw new RangeError('"refreshMarginMs" expected a non-negative number');
  const logger = options.logger ?? silentLogger;
  const cache = new Map<string, { token: AccessToken; refreshAtMs: number }>();
  const inflight = new Map<string, Promise<AccessToken>>();

  const fetchToken = (scope: string): Promise<AccessToken> => {
    let p = inflight.get(scope);
    if (!p) {
      // One request per scope, whoever asks: the shared fetch is not tied to any single caller's abort signal.
      p = credential.getToken(scope).then((t: SdkAccessToken | null) => {
        if (!t || !t.token) throw new KarsError('IDENTITY_UNAVAILABLE', 'credential returned no token');
        const token: AccessToken = { token: redact(t.token), expiresOnMs: t.expiresOnTimestamp };
        const byMargin = t.expiresOnTimestamp - marginMs;
        const refreshAtMs = t.refreshAfterTimestamp ? Math.min(byMargin, t.refreshAfterTimestamp) : byMargin;
        cache.set(scope, { token, refreshAtMs });
        return token;
      }).finally(() => inflight.delete(scope));
      inflight.set(scope, p);
    }
    return p;
  };

  return {
    async getToken(scope, getOptions = {}) {
      const signal = getOptions.abortSignal;
      if (signal?.aborted) throw new KarsError('IDENTITY_UNAVAILABLE', 'token request aborted');
      const cached = cache.get(scope);
      const now = clock.nowMs();
      if (cached && now < cached.refreshAtMs) return cached.token;
      try {
        return await raceAbort(fetchToken(scope), signal);
      } catch (e) {
        // A failed refresh is not an outage while the old token is still valid: keep serving it.
        if (cached && clock.nowMs() < cached.token.expiresOnMs) {
          logger.warn('identity.refresh_failed', { code: isKarsError(e) ? e.code : 'IDENTITY_UNAVAILABLE', reason: 'serving cached token' });
          return cached.token;
        }
        if (isKarsError(e)) throw e;
        // The SDK's error names the credential and the provider's AADSTS reason, never the assertion or a token.
        throw new KarsError('IDENTITY_UNAVAILABLE', `no token for scope ${scope}: ${errorSummary(e)}`);
      }
    },
  };
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new KarsError('IDENTITY_UNAVAILABLE', 'token request aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function errorSummary(e: unknown): string {
  const err = e as { name?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? err.message.split('\n')[0]!.slice(0, 300) : 'unknown error';
  return `${typeof err?.name === 'string' ? err.name : 'Error'}: ${message}`;
}
