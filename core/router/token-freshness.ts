// T3-E "stolen token used outside cluster": the router's tokens are scoped to one audience and short-lived. Whatever
// the identity provider or a cache hands back, a token issued more than `maxAgeMs` (1 h) ago is never used: a
// managed-identity endpoint (IMDS) serves cached tokens that live up to 24 h, and MSAL keeps reusing a token until
// 5 minutes before its expiry, so the age has to be checked here, not assumed.

export const MAX_TOKEN_AGE_MS = 3600_000;
export const DEFAULT_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export interface TokenTimes {
  /** When the token was issued: its JWT `iat`, else the moment the router received it (a lower bound on its age). */
  readonly issuedAtMs: number;
  readonly expiresOnMs: number;
}

export type TokenFreshness = 'fresh' | 'refresh' | 'unusable';

export interface FreshnessPolicy {
  readonly maxAgeMs: number;
  readonly refreshMarginMs: number;
  /** TEST ONLY (`_disable: ['token-max-age']`): judge by expiry alone, as a plain cache would. */
  readonly ignoreAge?: boolean;
}

/**
 * `fresh`: use it. `refresh`: still usable, but fetch a new one (within the margin of its expiry or of its maximum
 * age). `unusable`: expired, or older than the maximum age, or issued in the future beyond a minute of clock skew.
 */
export function tokenFreshness(t: TokenTimes, nowMs: number, policy: FreshnessPolicy): TokenFreshness {
  const usableUntil = policy.ignoreAge ? t.expiresOnMs : Math.min(t.expiresOnMs, t.issuedAtMs + policy.maxAgeMs);
  if (nowMs >= usableUntil) return 'unusable';
  if (!policy.ignoreAge && t.issuedAtMs > nowMs + 60_000) return 'unusable';
  return nowMs >= usableUntil - policy.refreshMarginMs ? 'refresh' : 'fresh';
}

/**
 * The `iat` claim of a JWT, in ms, or undefined when the token is not a JWT or has no numeric `iat`. The signature is
 * not checked: the router only reads its own token's timestamps; the upstream verifies it.
 */
export function jwtIssuedAtMs(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1]!.length === 0 || parts[1]!.length > 16_384) return undefined;
  try {
    const json = atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(parts[1]!.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { iat?: unknown };
    return typeof claims.iat === 'number' && Number.isFinite(claims.iat) && claims.iat > 0 ? Math.floor(claims.iat * 1000) : undefined;
  } catch {
    return undefined;
  }
}
