import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { verifyGithubWebhook } from '../../../core/webhook/verify-github';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { NOT_BYTES } from '../crypto/hostile-values';
import { headerLookup, utf8 } from './helpers';

interface GhVector { name: string; secret: string; bodyUtf8: string; signature: string; code?: string }
const vectors = loadVectors<{ valid: GhVector[]; invalid: GhVector[] }>('github/docs-and-octokit.json');
const raw = loadVectors<{ bodyBase64: string; github: { secret: string; signature: string } }>('cross-generated/raw-bytes-openssl.json');

// @octokit/webhooks-methods is ESM-only; this project compiles to CommonJS, so it is loaded dynamically.
let sign: (secret: string, payload: string) => Promise<string>;
beforeAll(async () => {
  ({ sign } = await import('@octokit/webhooks-methods'));
});

const SECRET = 'It\'s a Secret to Everybody';
const NEW_SECRET = 'rotated-secret-2026';
const NOW_MS = 1_700_000_000_000;
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
const PAYLOAD = '{"zen":"Design for failure.","hook_id":123}';

function verify(headers: Record<string, string>, body: Uint8Array, secrets = [redact(SECRET)]) {
  return verifyGithubWebhook({ body, header: headerLookup(headers), secrets, nowMs: NOW_MS });
}
const headersFor = (signature: string, extra: Record<string, string> = {}) => ({
  'X-Hub-Signature-256': signature, 'X-GitHub-Delivery': DELIVERY, 'X-GitHub-Event': 'ping', ...extra,
});

describe('verifyGithubWebhook: published vectors', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('accepts "%s"', (_n, v) => {
    expect(verify(headersFor(v.signature), vectorBody(v), [redact(v.secret)])).toMatchObject({ ok: true, deliveryId: DELIVERY, eventType: 'ping' });
  });
  it.each(vectors.invalid.map((v) => [v.name, v] as const))('rejects "%s"', (_n, v) => {
    expect(verify(headersFor(v.signature), vectorBody(v), [redact(v.secret)])).toEqual({ ok: false, code: v.code });
  });
});

describe('verifyGithubWebhook: signatures from @octokit/webhooks-methods', () => {
  it('accepts octokit-signed payloads and rejects any single-byte change (property)', async () => {
    const secretArb = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
    await assertProperty(
      fc.asyncProperty(secretArb, fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }), fc.nat(), async (secret, payload, at) => {
        const signature = await sign(secret, payload);
        const body = utf8(payload);
        expect(verify(headersFor(signature), body, [redact(secret)]).ok).toBe(true);
        if (body.length > 0) {
          const tampered = body.slice();
          tampered[at % body.length]! ^= 0x01;
          expect(verify(headersFor(signature), tampered, [redact(secret)])).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('uses octokit-style rotation: either of two secrets may have signed', async () => {
    const byOld = await sign(SECRET, PAYLOAD);
    const byNew = await sign(NEW_SECRET, PAYLOAD);
    const secrets = [redact(NEW_SECRET), redact(SECRET)];
    expect(verify(headersFor(byNew), utf8(PAYLOAD), secrets)).toMatchObject({ ok: true, secretIndex: 0 });
    expect(verify(headersFor(byOld), utf8(PAYLOAD), secrets)).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verify(headersFor(byOld), utf8(PAYLOAD), [redact(NEW_SECRET)])).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });

  it('accepts upper-case hex, and derives the replay key from the body, not from X-GitHub-Delivery', async () => {
    const signature = await sign(SECRET, PAYLOAD);
    const a = verify(headersFor(signature), utf8(PAYLOAD));
    const b = verify(headersFor(`sha256=${signature.slice(7).toUpperCase()}`, { 'X-GitHub-Delivery': 'a-fresh-guid-from-an-attacker' }), utf8(PAYLOAD));
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(b.deliveryId).toBe('a-fresh-guid-from-an-attacker');
      expect(b.replayKey).toBe(a.replayKey);
      expect(a.replayKey).toMatch(/^github:[0-9a-f]{64}$/);
    }
  });

  it('verifies an empty body (octokit refuses to sign one, so node:crypto does)', () => {
    const signature = `sha256=${createHmac('sha256', SECRET).update(new Uint8Array(0)).digest('hex')}`;
    expect(verify(headersFor(signature), new Uint8Array(0)).ok).toBe(true);
    expect(verify(headersFor(signature), utf8(' '))).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });
});

describe('verifyGithubWebhook: one test per failure mode', () => {
  let good: Record<string, string>;
  beforeAll(async () => {
    good = headersFor(await sign(SECRET, PAYLOAD));
  });
  const drop = (h: Record<string, string>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));

  it('no X-Hub-Signature-256 (even with the legacy SHA-1 header) → WEBHOOK_SIGNATURE_MISSING', () => {
    const h = { ...drop(good, 'X-Hub-Signature-256'), 'X-Hub-Signature': 'sha1=0123456789abcdef0123456789abcdef01234567' };
    expect(verify(h, utf8(PAYLOAD))).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISSING' });
  });
  it.each([
    ['sha1 prefix', (s: string) => s.replace('sha256=', 'sha1=')],
    ['no prefix', (s: string) => s.slice(7)],
    ['31 bytes', (s: string) => s.slice(0, -2)],
    ['33 bytes', (s: string) => `${s}00`],
    ['trailing space inside value', (s: string) => `${s} x`],
    ['two signatures', (s: string) => `${s},${s}`],
  ])('%s → WEBHOOK_SIGNATURE_MALFORMED', (_n, mutate) => {
    expect(verify({ ...good, 'X-Hub-Signature-256': mutate(good['X-Hub-Signature-256']!) }, utf8(PAYLOAD))).toEqual({
      ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED',
    });
  });
  it('missing X-GitHub-Delivery or X-GitHub-Event → WEBHOOK_HEADER_MISSING', () => {
    expect(verify(drop(good, 'X-GitHub-Delivery'), utf8(PAYLOAD))).toEqual({ ok: false, code: 'WEBHOOK_HEADER_MISSING' });
    expect(verify(drop(good, 'X-GitHub-Event'), utf8(PAYLOAD))).toEqual({ ok: false, code: 'WEBHOOK_HEADER_MISSING' });
  });
  it.each([
    ['X-GitHub-Event', 'Push'],
    ['X-GitHub-Event', 'push;rm'],
    ['X-GitHub-Delivery', 'has.dot'],
    ['X-GitHub-Delivery', 'x'.repeat(257)],
  ])('%s = %j → WEBHOOK_HEADER_INVALID', (name, value) => {
    expect(verify({ ...good, [name]: value }, utf8(PAYLOAD))).toEqual({ ok: false, code: 'WEBHOOK_HEADER_INVALID' });
  });
  it('tampered body → WEBHOOK_SIGNATURE_MISMATCH', () => {
    expect(verify(good, utf8(PAYLOAD.replace('123', '124')))).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });
  it('secret with a control character, or no secret → WEBHOOK_SECRET_INVALID', () => {
    expect(verify(good, utf8(PAYLOAD), [redact(`${SECRET}\n`)])).toEqual({ ok: false, code: 'WEBHOOK_SECRET_INVALID' });
    expect(verify(good, utf8(PAYLOAD), [])).toEqual({ ok: false, code: 'WEBHOOK_SECRET_INVALID' });
  });
  it('non-UTF-8 body bytes verify against the OpenSSL-generated MAC', () => {
    const body = new Uint8Array(Buffer.from(raw.bodyBase64, 'base64'));
    expect(verify(headersFor(raw.github.signature), body, [redact(raw.github.secret)]).ok).toBe(true);
  });
  it.each(NOT_BYTES)('body = %s → TypeError', (_n, body) => {
    expect(() => verify(good, body as Uint8Array)).toThrow(TypeError);
  });
});
