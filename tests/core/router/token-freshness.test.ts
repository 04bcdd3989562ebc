import { describe, expect, it } from 'vitest';
import { jwtIssuedAtMs, tokenFreshness } from '../../../core/router/token-freshness';

const H = 3600_000;
const policy = { maxAgeMs: H, refreshMarginMs: 5 * 60_000 };

describe('tokenFreshness', () => {
  it('caps use at one hour after issue even when the token lives 24 h', () => {
    const t = { issuedAtMs: 0, expiresOnMs: 24 * H };
    expect(tokenFreshness(t, 54 * 60_000, policy)).toBe('fresh');
    expect(tokenFreshness(t, 56 * 60_000, policy)).toBe('refresh');
    expect(tokenFreshness(t, H, policy)).toBe('unusable');
    expect(tokenFreshness(t, H, { ...policy, ignoreAge: true })).toBe('fresh');
  });
  it('refreshes before expiry and refuses an expired token', () => {
    const t = { issuedAtMs: 0, expiresOnMs: 10 * 60_000 };
    expect(tokenFreshness(t, 4 * 60_000, policy)).toBe('fresh');
    expect(tokenFreshness(t, 6 * 60_000, policy)).toBe('refresh');
    expect(tokenFreshness(t, 10 * 60_000, policy)).toBe('unusable');
  });
  it('reads iat from a JWT, undefined otherwise', () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(jwtIssuedAtMs(`${b64({ alg: 'none' })}.${b64({ iat: 1700000000 })}.x`)).toBe(1_700_000_000_000);
    for (const t of ['opaque', 'a.b', `${b64({})}.${b64({ iat: 'x' })}.s`, `${b64({})}.!!!.s`]) expect(jwtIssuedAtMs(t), t).toBeUndefined();
  });
});
