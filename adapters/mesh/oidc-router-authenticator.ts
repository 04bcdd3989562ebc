// RouterAuthenticator over the cluster's OIDC issuer (AKS: the cluster's issuer URL; locally: the identity stand-in's
// /oidc issuer). Keys come from the JWKS URL, cached; an unknown `kid` refetches (rate-limited), so issuer key
// rotation needs no restart. The JWKS fetch failing fails closed (`keys-unavailable`).
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
  let fetchedAtMs = -Infinity;
  let inflight: Promise<void> | undefined;

  async function refresh(): Promise<void> {
    inflight ??= (async () => {
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
      try {
        if (now - fetchedAtMs > ttl) await refresh();
        const kid = kidOf(token);
        if (kid !== undefined && !keys.has(kid) && now - fetchedAtMs > minRefetch) await refresh();
      } catch {
        if (keys.size === 0) return fail('keys-unavailable', 'issuer keys unavailable');
      }
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
