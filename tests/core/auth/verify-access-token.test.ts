// Strict access-token checks (RFC 8725 §3.1): algorithm confusion and `none` refused before any key lookup, then
// signature, issuer, audience, expiry, not-before and lifetime; the operator check adds tenant, principal and role.
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOperatorAuthenticator } from '../../../core/auth/authorize-operator';
import { verifyAccessToken, type AccessTokenPolicy } from '../../../core/auth/verify-access-token';
import type { TokenSigningKeys } from '../../../core/ports/token-signing-keys.port';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = 1_760_000_000_000;
const nowSec = NOW / 1000;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid: 'k1' }, key: KeyObject = privateKey): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

let lookups = 0;
const keys: TokenSigningKeys = { keyFor: async (kid) => { lookups += 1; return kid === 'k1' ? publicKey : undefined; } };
const policy: AccessTokenPolicy = { issuers: ['https://login.example/t/v2.0'], audiences: ['api://op'], maxLifetimeSec: 7200, clockSkewSec: 60 };
const good = { iss: 'https://login.example/t/v2.0', aud: 'api://op', iat: nowSec - 10, nbf: nowSec - 10, exp: nowSec + 3600, tid: 't', oid: 'o1', roles: ['Kars.Operator'] };

describe('verifyAccessToken', () => {
  it('accepts a well-formed RS256 token for the audience and issuer', async () => {
    expect(await verifyAccessToken(jwt(good), keys, policy, NOW)).toMatchObject({ ok: true });
  });

  it.each([
    ['alg none', () => `${b64({ alg: 'none', kid: 'k1' })}.${b64(good)}.`, 'TOKEN_MALFORMED'],
    ['alg none with a signature part', () => `${b64({ alg: 'none', kid: 'k1' })}.${b64(good)}.AAAA`, 'TOKEN_ALGORITHM'],
    ['HS256 keyed with the public key', () => {
      const input = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(good)}`;
      const pem = publicKey.export({ type: 'spki', format: 'pem' });
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    }, 'TOKEN_ALGORITHM'],
    ['unknown kid', () => jwt(good, { alg: 'RS256', kid: 'k9' }), 'TOKEN_UNKNOWN_KEY'],
    ['signed by another key', () => jwt(good, { alg: 'RS256', kid: 'k1' }, other.privateKey), 'TOKEN_SIGNATURE'],
    ['foreign issuer', () => jwt({ ...good, iss: 'https://evil.example/t/v2.0' }), 'TOKEN_ISSUER'],
    ['another audience', () => jwt({ ...good, aud: 'api://other' }), 'TOKEN_AUDIENCE'],
    ['expired', () => jwt({ ...good, exp: nowSec - 61 }), 'TOKEN_EXPIRED'],
    ['not yet valid', () => jwt({ ...good, nbf: nowSec + 120 }), 'TOKEN_NOT_YET_VALID'],
    ['a lifetime beyond the policy', () => jwt({ ...good, iat: nowSec - 10, exp: nowSec + 3 * 86400 }), 'TOKEN_LIFETIME'],
    ['no iat', () => jwt({ ...good, iat: undefined }), 'TOKEN_LIFETIME'],
  ] as const)('refuses %s', async (_n, make, reason) => {
    expect(await verifyAccessToken(make(), keys, policy, NOW)).toEqual({ ok: false, reason });
  });

  it('looks up no key for a token with the wrong algorithm', async () => {
    lookups = 0;
    await verifyAccessToken(`${b64({ alg: 'HS256', kid: 'k1' })}.${b64(good)}.AAAA`, keys, policy, NOW);
    expect(lookups).toBe(0);
  });
});

describe('createOperatorAuthenticator', () => {
  const auth = createOperatorAuthenticator({ ...policy, tenantId: 't', role: 'Kars.Operator' }, keys, { nowMs: () => NOW });
  it('admits the role holder of the tenant; 403 without the role; 401 for another tenant, no oid, or another scheme', async () => {
    expect(await auth.authorize(`Bearer ${jwt(good)}`)).toEqual({ ok: true, principal: { objectId: 'o1' } });
    expect(await auth.authorize(`Bearer ${jwt({ ...good, roles: ['Reader'] })}`)).toMatchObject({ ok: false, code: 'AUTH_FORBIDDEN', reason: 'ROLE_MISSING' });
    expect(await auth.authorize(`Bearer ${jwt({ ...good, tid: 'x' })}`)).toMatchObject({ ok: false, code: 'AUTH_REQUIRED', reason: 'TOKEN_TENANT' });
    expect(await auth.authorize(`Bearer ${jwt({ ...good, oid: undefined })}`)).toMatchObject({ code: 'AUTH_REQUIRED', reason: 'TOKEN_PRINCIPAL' });
    expect(await auth.authorize(`Basic ${jwt(good)}`)).toMatchObject({ code: 'AUTH_REQUIRED', reason: 'TOKEN_SCHEME' });
    expect(await auth.authorize(undefined)).toMatchObject({ code: 'AUTH_REQUIRED', reason: 'TOKEN_MISSING' });
  });
});
