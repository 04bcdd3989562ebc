// Lets other local servers (Key Vault stand-in, router) accept only access tokens minted by the local identity
// server for their own audience, either in-process or by fetching its JWKS over HTTPS.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as https from 'node:https';
import type { Result } from '../../../core/errors';
import { verifyJwt, type JwtClaims, type JwtRejection } from './jwt';

/** T3-E caps token lifetime at one hour (short-lived tokens); resources refuse anything longer. */
export const MAX_ACCESS_TOKEN_LIFETIME_SEC = 3600;

export type AccessTokenVerifier = (token: string, audience: string) => Promise<Result<JwtClaims, JwtRejection>>;

/** `https://vault.azure.net` and `https://vault.azure.net/` name the same resource. */
export function audienceVariants(audience: string): string[] {
  const bare = audience.replace(/\/+$/, '');
  return [bare, `${bare}/`];
}

export function accessTokenIssuer(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${tenantId}/v2.0`;
}

export function createKeyedAccessTokenVerifier(issuer: string, keyFor: (kid: string) => KeyObject | undefined): AccessTokenVerifier {
  return async (token, audience) => verifyJwt(token, keyFor, {
    issuer,
    audiences: audienceVariants(audience),
    nowSec: Math.floor(Date.now() / 1000),
    maxLifetimeSec: MAX_ACCESS_TOKEN_LIFETIME_SEC,
  });
}

export interface RemoteVerifierOptions {
  authorityHost: string;
  tenantId: string;
  /** Dev CA to trust for the JWKS fetch (per request; nothing global changes). */
  caCertPem?: string;
}

/** Fetches the identity server's JWKS lazily and again when an unknown kid shows up (at most every 5 s). */
export function createRemoteAccessTokenVerifier(options: RemoteVerifierOptions): AccessTokenVerifier {
  const jwksUrl = `${options.authorityHost.replace(/\/+$/, '')}/${options.tenantId}/discovery/v2.0/keys`;
  let keys = new Map<string, KeyObject>();
  let fetchedAtMs = 0;
  let inflight: Promise<void> | undefined;
  const refresh = () => {
    inflight ??= fetchJson(jwksUrl, options.caCertPem)
      .then((body) => {
        const next = new Map<string, KeyObject>();
        for (const jwk of (body as { keys?: JsonWebKey[] }).keys ?? []) {
          if (typeof jwk.kid === 'string') next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
        }
        keys = next;
        fetchedAtMs = Date.now();
      })
      .finally(() => { inflight = undefined; });
    return inflight;
  };
  const verifier = createKeyedAccessTokenVerifier(accessTokenIssuer(options.authorityHost, options.tenantId), (kid) => keys.get(kid));
  return async (token, audience) => {
    let result = await verifier(token, audience);
    if (!result.ok && result.code === 'TOKEN_UNKNOWN_KEY' && Date.now() - fetchedAtMs > 5000) {
      await refresh();
      result = await verifier(token, audience);
    }
    return result;
  };
}

function fetchJson(url: string, caCertPem: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...(caCertPem ? { ca: caCertPem } : {}), timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`JWKS fetch answered ${res.statusCode}`));
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e as Error); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('JWKS fetch timed out')));
    req.on('error', reject);
  });
}
