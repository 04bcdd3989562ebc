import { describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { decodeSecretKeys, validateWebhookSecret } from '../../../core/webhook/decode-secret';
import { findMatchingKey } from '../../../core/webhook/match-signature';

const STANDARD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('validateWebhookSecret (for the admin API)', () => {
  it.each([
    ['standard', STANDARD],
    ['standard', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['github', "It's a Secret to Everybody"],
    ['slack', '8f742231b10e8888abcd99yyyzzz85a5'],
    ['teams', 'aICAjTNnrOddbThbC7YtzuktsaKF01DbGQzRAfyMgMs='],
  ] as const)('accepts a usable %s secret', (channel, secret) => {
    expect(validateWebhookSecret(channel, redact(secret))).toEqual({ ok: true });
  });

  it.each([
    ['standard', 'whsec_not base64!', 'canonical base64'],
    ['standard', 'whsec_', '24..64 bytes'],
    ['standard', `whsec_${Buffer.alloc(23).toString('base64')}`, '24..64 bytes'],
    ['github', 'line\n', 'control characters'],
    ['slack', '', 'empty'],
    ['teams', 'a-b_', 'base64'],
  ] as const)('refuses a bad %s secret with a reason that does not contain it', (channel, secret, reasonPart) => {
    const result = validateWebhookSecret(channel, redact(secret));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('WEBHOOK_SECRET_INVALID');
    expect(result.reason).toContain(reasonPart);
    if (secret.length > 6) expect(result.reason).not.toContain(secret.trim());
  });
});

describe('decodeSecretKeys and findMatchingKey', () => {
  it('zero-fills every key after matching, whether or not one matched', () => {
    const keys = decodeSecretKeys('github', [redact('one'), redact('two')])!;
    expect(keys.every((k) => k.some((b) => b !== 0))).toBe(true);
    expect(findMatchingKey(keys, [new Uint8Array([1])], [new Uint8Array(32)])).toBe(-1);
    expect(keys.every((k) => k.every((b) => b === 0))).toBe(true);
  });

  it('returns undefined for a non-array or oversized list', () => {
    expect(decodeSecretKeys('github', 'secret')).toBeUndefined();
    expect(decodeSecretKeys('github', Array.from({ length: 5 }, () => redact('s')))).toBeUndefined();
  });
});
