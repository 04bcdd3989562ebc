// Minimal RS256 JWT signing and strict verification (node:crypto) for the local Entra / OIDC issuer stand-in.
import { createHash, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { fail, ok, type Result } from '../../../core/errors';

export type JwtClaims = Record<string, unknown> & {
  iss?: string; sub?: string; aud?: string | string[]; exp?: number; nbf?: number; iat?: number;
};

export type JwtRejection =
  | 'TOKEN_MALFORMED' | 'TOKEN_ALGORITHM' | 'TOKEN_UNKNOWN_KEY' | 'TOKEN_SIGNATURE'
  | 'TOKEN_EXPIRED' | 'TOKEN_NOT_YET_VALID' | 'TOKEN_ISSUER' | 'TOKEN_AUDIENCE' | 'TOKEN_LIFETIME';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const b64url = (buf: Buffer) => buf.toString('base64url');

/** Key id = truncated SHA-256 of the SPKI, so a kid always names exactly one key. */
export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const kid = b64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest()).slice(0, 22);
  return { kid, privateKey, publicKey };
}

export function publicJwk(key: SigningKey): JsonWebKey {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig', alg: 'RS256' };
}

export function signJwt(claims: JwtClaims, key: SigningKey, typ = 'JWT'): string {
  const header = b64url(Buffer.from(JSON.stringify({ alg: 'RS256', typ, kid: key.kid })));
  const body = b64url(Buffer.from(JSON.stringify(claims)));
  const signature = sign('sha256', Buffer.from(`${header}.${body}`), key.privateKey);
  return `${header}.${body}.${b64url(signature)}`;
}

export interface VerifyJwtOptions {
  issuer: string;
  /** Accepted audiences; a token passes when any of its `aud` values is listed. */
  audiences: readonly string[];
  nowSec: number;
  clockSkewSec?: number;
  /** Refuse tokens whose exp - iat exceeds this (and tokens without iat). */
  maxLifetimeSec?: number;
}

/** Verifies signature first (RS256 only, key chosen by kid), then iss, aud, exp, nbf, lifetime. */
export function verifyJwt(
  token: string,
  keyFor: (kid: string) => KeyObject | undefined,
  options: VerifyJwtOptions,
): Result<JwtClaims, JwtRejection> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return fail('TOKEN_MALFORMED', 'not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  let claims: JwtClaims;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return fail('TOKEN_MALFORMED', 'header or payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return fail('TOKEN_MALFORMED', 'payload is not an object');
  // Only RS256: `none` and HMAC-with-the-public-key confusion are refused before any key is touched.
  if (header.alg !== 'RS256') return fail('TOKEN_ALGORITHM', 'only RS256 is accepted');
  const key = typeof header.kid === 'string' ? keyFor(header.kid) : undefined;
  if (!key) return fail('TOKEN_UNKNOWN_KEY', 'no key for kid');
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return fail('TOKEN_SIGNATURE', 'bad signature');
  const skew = options.clockSkewSec ?? 60;
  if (claims.iss !== options.issuer) return fail('TOKEN_ISSUER', 'unexpected issuer');
  const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!auds.some((a) => typeof a === 'string' && options.audiences.includes(a))) return fail('TOKEN_AUDIENCE', 'unexpected audience');
  if (typeof claims.exp !== 'number' || claims.exp + skew <= options.nowSec) return fail('TOKEN_EXPIRED', 'expired or no exp');
  if (typeof claims.nbf === 'number' && claims.nbf - skew > options.nowSec) return fail('TOKEN_NOT_YET_VALID', 'nbf in the future');
  if (options.maxLifetimeSec !== undefined &&
      (typeof claims.iat !== 'number' || claims.exp - claims.iat > options.maxLifetimeSec)) {
    return fail('TOKEN_LIFETIME', 'lifetime too long or no iat');
  }
  return ok(claims);
}

/** Reads claims without verifying them: for tests and logs of non-secret claims only. */
export function decodeJwtClaims(token: string): JwtClaims {
  const p = token.split('.')[1];
  if (!p) throw new TypeError('"token" expected a compact JWS');
  return JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JwtClaims;
}
