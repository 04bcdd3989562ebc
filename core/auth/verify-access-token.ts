// Strict RS256 access-token verification (RFC 7519 §7.2, RFC 8725 §3.1): signature first with the key its `kid` names,
// then issuer, audience, expiry, not-before and lifetime. No `none`, no HMAC: alg confusion is refused before any key is
// looked up.
import { verify } from 'node:crypto';
import type { TokenSigningKeys } from '../ports/token-signing-keys.port';

export type AccessTokenClaims = Readonly<Record<string, unknown>>;

export type TokenRejection =
  | 'TOKEN_MALFORMED' | 'TOKEN_ALGORITHM' | 'TOKEN_UNKNOWN_KEY' | 'TOKEN_SIGNATURE' | 'TOKEN_ISSUER'
  | 'TOKEN_AUDIENCE' | 'TOKEN_EXPIRED' | 'TOKEN_NOT_YET_VALID' | 'TOKEN_LIFETIME';

export interface AccessTokenPolicy {
  /** Exact `iss` values accepted. */
  readonly issuers: readonly string[];
  /** A token passes when one of its `aud` values is listed. */
  readonly audiences: readonly string[];
  /** Tokens living longer than this (exp - iat) are refused; Entra access tokens live 60-90 minutes. */
  readonly maxLifetimeSec: number;
  readonly clockSkewSec: number;
}

export type VerifiedToken = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: TokenRejection };

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function verifyAccessToken(token: string, keys: TokenSigningKeys, policy: AccessTokenPolicy, nowMs: number): Promise<VerifiedToken> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !B64URL.test(p))) return { ok: false, reason: 'TOKEN_MALFORMED' };
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  const claims = decodeJson(p);
  if (!isObject(header) || !isObject(claims)) return { ok: false, reason: 'TOKEN_MALFORMED' };
  if (header.alg !== 'RS256') return { ok: false, reason: 'TOKEN_ALGORITHM' };
  const key = typeof header.kid === 'string' && header.kid.length <= 128 ? await keys.keyFor(header.kid) : undefined;
  if (!key) return { ok: false, reason: 'TOKEN_UNKNOWN_KEY' };
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return { ok: false, reason: 'TOKEN_SIGNATURE' };
  if (typeof claims.iss !== 'string' || !policy.issuers.includes(claims.iss)) return { ok: false, reason: 'TOKEN_ISSUER' };
  const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!auds.some((a) => typeof a === 'string' && policy.audiences.includes(a))) return { ok: false, reason: 'TOKEN_AUDIENCE' };
  const nowSec = Math.floor(nowMs / 1000);
  if (typeof claims.exp !== 'number' || claims.exp + policy.clockSkewSec <= nowSec) return { ok: false, reason: 'TOKEN_EXPIRED' };
  if (typeof claims.nbf === 'number' && claims.nbf - policy.clockSkewSec > nowSec) return { ok: false, reason: 'TOKEN_NOT_YET_VALID' };
  if (typeof claims.iat !== 'number' || claims.exp - claims.iat > policy.maxLifetimeSec) return { ok: false, reason: 'TOKEN_LIFETIME' };
  return { ok: true, claims };
}
