// RouterAuthenticator over the cluster's OIDC issuer (AKS: the cluster's issuer URL; locally: the identity stand-in's
// /oidc issuer). Keys come from the JWKS URL, cached; an unknown `kid` refetches (rate-limited), so issuer key
// rotation needs no restart. The JWKS fetch failing fails closed (`keys-unavailable`). Every fetch attempt, failed or
// not, counts for the minimum gap, and failures back off exponentially: a flood of tokens with made-up kids, or any
// traffic while the issuer is down, cannot turn into a flood of JWKS fetches (T4-D).
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { fail } from '../../core/errors';
import { verifyRouterToken, type RouterTokenPolicy } from '../../core/mesh/router-auth/verify-router-token';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import type { RouterAuthenticator } from '../../core/ports/router-authenticator.port';

export interface OidcRouterAuthenticatorOptions extends RouterTokenPolicy {
  jwksUrl: string;
  /** Keys are kept this long before a refetch. Default 10 min. */
  cacheTtlMs?: number;
  /** Smallest gap between two refetches caused by an unknown kid. Default 30 s. */
  minRefetchMs?: number;
  /** Wait after a failed fetch before the next attempt, doubled per consecutive failure. Default 1 s. */
  failureBackoffMs?: number;
  /** Longest wait between attempts while the issuer keeps failing. Default 60 s. */
  maxFailureBackoffMs?: number;
  fetchTimeoutMs?: number;
  fetchImpl?: typeof fetch;
  clock?: Clock;
}

export function createOidcRouterAuthenticator(options: OidcRouterAuthenticatorOptions): RouterAuthenticator {
  const clock = options.clock ?? systemClock;
  const doFetch = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const ttl = options.cacheTtlMs ?? 600_000;
  const minRefetch = options.minRefetchMs ?? 30_000;
  let keys = new Map<string, KeyObject>();
  const backoffBase = options.failureBackoffMs ?? 1000;
  const backoffMax = options.maxFailureBackoffMs ?? 60_000;
  let fetchedAtMs = -Infinity;
  let attemptedAtMs = -Infinity;
  let failures = 0;
  let inflight: Promise<void> | undefined;

  const backoffMs = (): number => (failures === 0 ? 0 : Math.min(backoffMax, backoffBase * 2 ** Math.min(failures - 1, 30)));

  async function refresh(): Promise<void> {
    inflight ??= (async () => {
      attemptedAtMs = clock.nowMs();
      try {
        const res = await doFetch(options.jwksUrl, { signal: AbortSignal.timeout(options.fetchTimeoutMs ?? 5000) });
        if (!res.ok) throw new Error(`jwks ${res.status}`);
        const body = (await res.json()) as { keys?: (JsonWebKey & { kid?: string; alg?: string })[] };
        const next = new Map<string, KeyObject>();
        for (const jwk of body.keys ?? []) {
          if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || (jwk.alg !== undefined && jwk.alg !== 'RS256')) continue;
          next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
        }
        keys = next;
        fetchedAtMs = clock.nowMs();
        failures = 0;
      } catch (e) {
        failures += 1;
        throw e;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  return {
    async authenticate(token) {
      if (typeof token !== 'string' || token.length === 0) return fail('missing', 'no token');
      const now = clock.nowMs();
      const sinceAttempt = now - attemptedAtMs;
      try {
        if (sinceAttempt >= backoffMs()) {
          const kid = kidOf(token);
          if (now - fetchedAtMs > ttl) await refresh();
          else if (kid !== undefined && !keys.has(kid) && sinceAttempt > minRefetch) await refresh();
        }
      } catch {
        // A failed fetch keeps the cached keys, if any; with none the answer is keys-unavailable (503, not 401).
      }
      if (keys.size === 0) return fail('keys-unavailable', 'issuer keys unavailable');
      return verifyRouterToken(token, (kid) => keys.get(kid), options, Math.floor(clock.nowMs() / 1000));
    },
  };
}

function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
