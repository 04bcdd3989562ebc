// TokenSigningKeys over an OpenID provider's JWKS (Entra ID: {authority}/{tenant}/discovery/v2.0/keys). Keys are
// fetched on first use and again when a token names an unknown kid (Entra rolls its keys), at most once per
// `minRefreshMs`, so a flood of forged kids cannot turn into a flood of JWKS fetches.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Clock } from '../../core/ports/clock.port';
import type { TokenSigningKeys } from '../../core/ports/token-signing-keys.port';

export interface OpenIdSigningKeysOptions {
  jwksUrl: string;
  clock: Clock;
  /** Extra CA to trust for this fetch only (the local dev CA); public roots stay trusted. */
  caCertPem?: string;
  /** Default 60 s. */
  minRefreshMs?: number;
  /** Default 5 s. */
  timeoutMs?: number;
}

const MAX_JWKS_BYTES = 256 * 1024;

export function createOpenIdSigningKeys(options: OpenIdSigningKeysOptions): TokenSigningKeys {
  if (!options.jwksUrl.startsWith('https://')) throw new RangeError('"jwksUrl" expected an https URL');
  const minRefreshMs = options.minRefreshMs ?? 60_000;
  let keys = new Map<string, KeyObject>();
  let fetchedAtMs: number | undefined;
  let inflight: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    inflight ??= fetchJson(options.jwksUrl, options.caCertPem, options.timeoutMs ?? 5000)
      .then((body) => {
        const next = new Map<string, KeyObject>();
        for (const jwk of (body as { keys?: JsonWebKey[] }).keys ?? []) {
          if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
          try {
            next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
          } catch {
            // A key Node cannot read is simply not trusted.
          }
        }
        keys = next;
      })
      .finally(() => {
        fetchedAtMs = options.clock.nowMs();
        inflight = undefined;
      });
    return inflight;
  };
  return {
    async keyFor(kid) {
      const known = keys.get(kid);
      if (known) return known;
      if (fetchedAtMs === undefined || options.clock.nowMs() - fetchedAtMs >= minRefreshMs) await refresh();
      return keys.get(kid);
    },
  };
}

function fetchJson(url: string, caCertPem: string | undefined, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...(caCertPem ? { ca: [...rootCertificates, caCertPem] } : {}), timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_JWKS_BYTES) req.destroy(new Error('JWKS too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`JWKS fetch answered ${res.statusCode}`));
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e as Error); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('JWKS fetch timed out')));
    req.on('error', reject);
  });
}
