import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { decodeSecretKeys } from '../../../core/webhook/decode-secret';
import { cachedSecretKeys } from '../../../core/webhook/secret-key-cache';
import type { WebhookChannel } from '../../../core/webhook/types';
import { verifyStandardWebhook } from '../../../core/webhook/verify-standard';
import { SECRETS, signStandard, utf8 } from '../edge/edge-fixture';

const CHANNELS = ['standard', 'github', 'slack', 'teams'] as const satisfies readonly WebhookChannel[];

describe('cachedSecretKeys', () => {
  it.each(CHANNELS)('%s: decodes to the same bytes as decodeSecretKeys', (channel) => {
    const secret = redact(SECRETS[channel]);
    const fresh = decodeSecretKeys(channel, [secret])!;
    expect(cachedSecretKeys(channel, [secret])!.map((k) => Buffer.from(k).toString('hex'))).toEqual(fresh.map((k) => Buffer.from(k).toString('hex')));
  });

  it('decodes once per secret object: the same objects give the same key arrays, a new object (reload, rotation) a new one', () => {
    const current = redact(SECRETS.standard);
    const first = cachedSecretKeys('standard', [current])!;
    const again = cachedSecretKeys('standard', [current])!;
    expect(again[0]).toBe(first[0]);
    const reloaded = cachedSecretKeys('standard', [redact(SECRETS.standard)])!;
    expect(reloaded[0]).not.toBe(first[0]);
    expect(Buffer.from(reloaded[0]!).equals(Buffer.from(first[0]!))).toBe(true);
    // One object used for two channels keeps one key per channel.
    const both = redact(SECRETS.teams);
    const asTeams = cachedSecretKeys('teams', [both])![0]!;
    const asGithub = cachedSecretKeys('github', [both])![0]!;
    expect(Buffer.from(asTeams).equals(Buffer.from(asGithub))).toBe(false);
    expect(cachedSecretKeys('teams', [both])![0]).toBe(asTeams);
  });

  it('fails closed like decodeSecretKeys: not a list, empty, more than four, not Redacted, or one unusable secret', () => {
    const good = redact(SECRETS.standard);
    expect(cachedSecretKeys('standard', 'whsec_x')).toBeUndefined();
    expect(cachedSecretKeys('standard', [])).toBeUndefined();
    expect(cachedSecretKeys('standard', Array.from({ length: 5 }, () => good))).toBeUndefined();
    expect(cachedSecretKeys('standard', [SECRETS.standard])).toBeUndefined();
    expect(cachedSecretKeys('standard', [good, redact('whsec_not base64!')])).toBeUndefined();
    // A secret that failed is not remembered as good.
    const bad = redact('whsec_');
    expect(cachedSecretKeys('standard', [bad])).toBeUndefined();
    expect(cachedSecretKeys('standard', [bad])).toBeUndefined();
  });

  it('verification leaves the cached keys intact: the same secret objects verify request after request', () => {
    const secrets = [redact(SECRETS.standard)];
    const nowMs = 1_760_000_000_000;
    for (let i = 0; i < 3; i += 1) {
      const body = `{"n":${i}}`;
      const headers = signStandard(SECRETS.standard, `msg_${i}`, Math.floor(nowMs / 1000), body);
      const result = verifyStandardWebhook({ body: utf8(body), header: (n) => headers[n], secrets, nowMs });
      expect(result.ok).toBe(true);
    }
    expect(cachedSecretKeys('standard', secrets)![0]!.some((b) => b !== 0)).toBe(true);
  });

  it('zero-fills the key bytes once the secret object is collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const keyOfDroppedSecret = (): Uint8Array => cachedSecretKeys('standard', [redact(SECRETS.standard)])![0]!;
    const key = keyOfDroppedSecret();
    expect(key.some((b) => b !== 0)).toBe(true);
    // Finalizers run after a collection, on a later turn of the event loop.
    for (let i = 0; i < 50 && key.some((b) => b !== 0); i += 1) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(key.every((b) => b === 0)).toBe(true);
  });
});
