// TokenSource for the sandbox router (T3-E): like credential-token-source, but no token issued more than one hour
// ago is ever handed out. Caches below the SDK (MSAL reuses a token until 5 minutes before expiry, IMDS serves cached
// tokens that live up to 24 h) can return an old token on request; when that happens the credential is rebuilt (a new
// MSAL application has an empty cache) and asked once more; if the provider still has nothing younger, the router
// fails closed with IDENTITY_UNAVAILABLE instead of using it.
import type { AccessToken as SdkAccessToken, TokenCredential } from '@azure/identity';
import { KarsError, isKarsError } from '../../core/errors';
import { systemClock, type Clock } from '../../core/ports/clock.port';
import { silentLogger, type Logger } from '../../core/ports/logger.port';
import type { AccessToken, TokenSource } from '../../core/ports/token-source.port';
import {
  DEFAULT_TOKEN_REFRESH_MARGIN_MS, MAX_TOKEN_AGE_MS, jwtIssuedAtMs, tokenFreshness, type FreshnessPolicy, type TokenTimes,
} from '../../core/router/token-freshness';
import { resolveRouterDisabled, type RouterMitigation } from '../../core/router/router-mitigations';
import { redact } from '../../core/secrets/redacted';

export interface FreshTokenSourceOptions {
  clock?: Clock;
  /** Longest age of a token in use (default and upper bound: 1 h). */
  maxAgeMs?: number;
  /** Refresh this long before expiry or maximum age (default 5 min). */
  refreshMarginMs?: number;
  logger?: Logger;
  /** TEST ONLY: `['token-max-age']` judges tokens by expiry alone. Never set from configuration. */
  _disable?: readonly RouterMitigation[];
}

export interface FreshTokenSource extends TokenSource {
  /** Values of the tokens currently cached, for the response redactor (T3-I). */
  currentSecrets(): string[];
}

interface Entry {
  token: AccessToken;
  times: TokenTimes;
}

/**
 * @param newCredential builds a credential; called once up front and again whenever a cache below handed back a token
 *   that is too old
 * @throws {RangeError} for a maximum age above one hour or a margin that leaves no usable window
 */
export function createFreshTokenSource(newCredential: () => TokenCredential, options: FreshTokenSourceOptions = {}): FreshTokenSource {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxAgeMs = options.maxAgeMs ?? MAX_TOKEN_AGE_MS;
  const refreshMarginMs = options.refreshMarginMs ?? DEFAULT_TOKEN_REFRESH_MARGIN_MS;
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 1 || maxAgeMs > MAX_TOKEN_AGE_MS) throw new RangeError('"maxAgeMs" expected an integer in 1..3600000');
  if (!Number.isSafeInteger(refreshMarginMs) || refreshMarginMs < 0 || refreshMarginMs >= maxAgeMs) {
    throw new RangeError('"refreshMarginMs" expected an integer in 0..maxAgeMs-1');
  }
  const policy: FreshnessPolicy = { maxAgeMs, refreshMarginMs, ignoreAge: resolveRouterDisabled(options._disable).has('token-max-age') };
  let credential = newCredential();
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();

  const ask = async (scope: string): Promise<Entry> => {
    const t: SdkAccessToken | null = await credential.getToken(scope);
    if (!t || !t.token) throw new KarsError('IDENTITY_UNAVAILABLE', 'credential returned no token');
    const times = { issuedAtMs: jwtIssuedAtMs(t.token) ?? clock.nowMs(), expiresOnMs: t.expiresOnTimestamp };
    return { token: { token: redact(t.token), expiresOnMs: t.expiresOnTimestamp }, times };
  };

  const fetchEntry = (scope: string): Promise<Entry> => {
    let p = inflight.get(scope);
    if (!p) {
      p = (async () => {
        let entry = await ask(scope);
        if (tokenFreshness(entry.times, clock.nowMs(), policy) !== 'fresh') {
          // A cache below the SDK answered with an old token: start over with an empty cache.
          logger.warn('identity.stale_token_from_provider', { reason: 'rebuilding credential' });
          credential = newCredential();
          entry = await ask(scope);
          if (tokenFreshness(entry.times, clock.nowMs(), policy) === 'unusable') {
            throw new KarsError('IDENTITY_UNAVAILABLE', 'the identity provider returned no token younger than the maximum age');
          }
        }
        cache.set(scope, entry);
        return entry;
      })().finally(() => inflight.delete(scope));
      inflight.set(scope, p);
    }
    return p;
  };

  return {
    async getToken(scope) {
      const cached = cache.get(scope);
      const state = cached ? tokenFreshness(cached.times, clock.nowMs(), policy) : 'unusable';
      if (cached && state === 'fresh') return cached.token;
      try {
        return (await fetchEntry(scope)).token;
      } catch (e) {
        // A failed refresh is not an outage while the cached token is still usable (younger than the maximum age).
        if (cached && tokenFreshness(cached.times, clock.nowMs(), policy) !== 'unusable') {
          logger.warn('identity.refresh_failed', { code: isKarsError(e) ? e.code : 'IDENTITY_UNAVAILABLE', reason: 'serving cached token' });
          return cached.token;
        }
        if (cached) cache.delete(scope);
        if (isKarsError(e)) throw e;
        const err = e as { name?: unknown };
        // The SDK's message may quote the provider's answer; the name says enough and carries no token.
        throw new KarsError('IDENTITY_UNAVAILABLE', `no token for scope ${scope} (${typeof err?.name === 'string' ? err.name : 'Error'})`);
      }
    },
    currentSecrets() {
      return [...cache.values()].map((e) => e.token.token.reveal());
    },
  };
}
