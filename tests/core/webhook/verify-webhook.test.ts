import { describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { isWebhookChannel, verifyWebhook } from '../../../core/webhook/verify-webhook';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { headerLookup } from './helpers';

describe('verifyWebhook (dispatcher)', () => {
  it('narrows the route segment to known channels only', () => {
    for (const c of ['standard', 'github', 'slack', 'teams']) expect(isWebhookChannel(c)).toBe(true);
    for (const c of ['Standard', 'stripe', '', '__proto__', 'github ', 1, null]) expect(isWebhookChannel(c)).toBe(false);
  });

  it('routes each channel to its own verifier (a GitHub-signed request fails every other channel)', () => {
    const v = loadVectors<{ valid: Array<{ secret: string; bodyUtf8: string; signature: string }> }>('github/docs-and-octokit.json').valid[0]!;
    const headers = headerLookup({ 'X-Hub-Signature-256': v.signature, 'X-GitHub-Delivery': 'd-1', 'X-GitHub-Event': 'ping' });
    const input = { body: vectorBody(v), header: headers, secrets: [redact(v.secret)], nowMs: 1_700_000_000_000 };
    expect(verifyWebhook('github', input)).toMatchObject({ ok: true, channel: 'github' });
    for (const channel of ['standard', 'slack', 'teams'] as const) {
      expect(verifyWebhook(channel, input)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISSING' });
    }
  });

  it('throws TypeError for a channel outside the union (a wiring bug)', () => {
    expect(() => verifyWebhook('stripe' as never, { body: new Uint8Array(0), header: () => undefined, secrets: [], nowMs: 0 })).toThrow(TypeError);
  });
});
