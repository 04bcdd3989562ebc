import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { redact, type Redacted } from '../../../core/secrets/redacted';
import type { VerifyWebhookInput } from '../../../core/webhook/types';
import { MAX_STANDARD_SIGNATURES, verifyStandardWebhook } from '../../../core/webhook/verify-standard';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { NOT_BYTES, NOT_NON_NEGATIVE_INTEGERS } from '../crypto/hostile-values';
import { headerLookup, utf8 } from './helpers';

interface StdVector { name: string; secret: string; msgId: string; timestampSec: number; bodyUtf8?: string; bodyBase64?: string; signature: string }
const published = loadVectors<{ valid: StdVector[]; invalid: Array<{ name: string; signature: string; code: string }> }>(
  'standard-webhooks/javascript-library.json',
);
const raw = loadVectors<{ bodyBase64: string; standard: Omit<StdVector, 'name' | 'bodyUtf8'> }>('cross-generated/raw-bytes-openssl.json');

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEW_SECRET = `whsec_${Buffer.from('a fresh 32-byte secret for rotat').toString('base64')}`;
const NOW_MS = 1_700_000_000_123;
const NOW_SEC = Math.floor(NOW_MS / 1000);
const BODY = utf8('{"type":"order.created","timestamp":"2023-11-14T22:13:20Z","data":{"id":1}}');

/** Signs with the real `standardwebhooks` library (string payload: the library decodes Buffers to strings). */
function signed(opts: { secret?: string; id?: string; tsSec?: number; body?: Uint8Array; signature?: string } = {}) {
  const id = opts.id ?? 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const tsSec = opts.tsSec ?? NOW_SEC;
  const body = opts.body ?? BODY;
  const signature = opts.signature ?? new Webhook(opts.secret ?? SECRET).sign(id, new Date(tsSec * 1000), new TextDecoder().decode(body));
  return { id, tsSec, body, headers: { 'webhook-id': id, 'webhook-timestamp': String(tsSec), 'webhook-signature': signature } };
}

function verify(headers: Record<string, string>, body: Uint8Array, secrets: Redacted<string>[] = [redact(SECRET)], nowMs = NOW_MS, toleranceSec?: number) {
  const input: VerifyWebhookInput = { body, header: headerLookup(headers), secrets, nowMs };
  return verifyStandardWebhook(input, toleranceSec === undefined ? undefined : { toleranceSec });
}

describe('verifyStandardWebhook: published vectors', () => {
  it.each(published.valid.map((v) => [v.name, v] as const))('accepts "%s"', (_name, v) => {
    const result = verify(
      { 'webhook-id': v.msgId, 'webhook-timestamp': String(v.timestampSec), 'webhook-signature': v.signature },
      vectorBody(v),
      [redact(v.secret)],
      v.timestampSec * 1000,
    );
    expect(result).toEqual({
      ok: true, channel: 'standard', deliveryId: v.msgId, replayKey: `standard:${v.msgId}`, timestampSec: v.timestampSec, secretIndex: 0,
    });
  });

  it.each(published.invalid.map((v) => [v.name, v] as const))('rejects "%s"', (_name, v) => {
    const good = published.valid[0]!;
    const result = verify(
      { 'webhook-id': good.msgId, 'webhook-timestamp': String(good.timestampSec), 'webhook-signature': v.signature },
      vectorBody(good),
      [redact(good.secret)],
      good.timestampSec * 1000,
    );
    expect(result).toEqual({ ok: false, code: v.code });
  });
});

describe('verifyStandardWebhook: signatures from the standardwebhooks library', () => {
  it('accepts a library-signed delivery, with header names in any case', () => {
    const d = signed();
    const mixed = { 'Webhook-Id': d.id, 'WEBHOOK-TIMESTAMP': String(d.tsSec), 'webhook-Signature': d.headers['webhook-signature'] };
    expect(verify(mixed, d.body)).toMatchObject({ ok: true, deliveryId: d.id, timestampSec: NOW_SEC, secretIndex: 0 });
  });

  it('accepts the secret with and without the whsec_ prefix', () => {
    const d = signed();
    expect(verify(d.headers, d.body, [redact(SECRET)]).ok).toBe(true);
    expect(verify(d.headers, d.body, [redact(SECRET.slice('whsec_'.length))]).ok).toBe(true);
  });

  it('accepts an empty body signed as empty, and rejects it under a signature for another body', () => {
    const empty = signed({ body: new Uint8Array(0) });
    expect(verify(empty.headers, empty.body).ok).toBe(true);
    const other = signed();
    expect(verify(other.headers, new Uint8Array(0))).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });

  it('verifies a body that is a subarray at a non-zero offset', () => {
    const d = signed();
    const backing = new Uint8Array(d.body.length + 7);
    backing.set(d.body, 7);
    expect(verify(d.headers, backing.subarray(7)).ok).toBe(true);
  });
});

describe('verifyStandardWebhook: rotation', () => {
  it('accepts a header carrying old and new signatures with either secret configured', () => {
    const oldSig = signed({ secret: SECRET }).headers['webhook-signature'];
    const newSig = signed({ secret: NEW_SECRET }).headers['webhook-signature'];
    const both = signed({ signature: `${newSig} ${oldSig}` });
    expect(verify(both.headers, both.body, [redact(NEW_SECRET)])).toMatchObject({ ok: true, secretIndex: 0 });
    expect(verify(both.headers, both.body, [redact(SECRET)])).toMatchObject({ ok: true, secretIndex: 0 });
  });

  it('reports which of two active secrets matched', () => {
    const d = signed({ secret: SECRET });
    expect(verify(d.headers, d.body, [redact(NEW_SECRET), redact(SECRET)])).toMatchObject({ ok: true, secretIndex: 1 });
  });

  it('rejects a delivery signed only by a secret that was rotated out', () => {
    const d = signed({ secret: SECRET });
    expect(verify(d.headers, d.body, [redact(NEW_SECRET)])).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });

  it('skips unknown versions (v1a, v2) and still finds the v1 match', () => {
    const d = signed();
    const v1 = d.headers['webhook-signature'];
    const noisy = signed({ signature: `v1a,${'A'.repeat(86)}== v2,${v1.slice(3)} ${v1}` });
    expect(verify(noisy.headers, noisy.body).ok).toBe(true);
  });
});

describe('verifyStandardWebhook: one test per failure mode', () => {
  const d = signed();
  const without = (name: string) => Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== name));

  it('missing webhook-signature → WEBHOOK_SIGNATURE_MISSING', () => {
    expect(verify(without('webhook-signature'), d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISSING' });
  });
  it('empty webhook-signature → WEBHOOK_SIGNATURE_MISSING', () => {
    expect(verify({ ...d.headers, 'webhook-signature': '' }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISSING' });
  });
  it('missing webhook-id → WEBHOOK_HEADER_MISSING', () => {
    expect(verify(without('webhook-id'), d.body)).toEqual({ ok: false, code: 'WEBHOOK_HEADER_MISSING' });
  });
  it('missing webhook-timestamp → WEBHOOK_HEADER_MISSING', () => {
    expect(verify(without('webhook-timestamp'), d.body)).toEqual({ ok: false, code: 'WEBHOOK_HEADER_MISSING' });
  });

  it.each(['hello', `${NOW_SEC}abc`, `-${NOW_SEC}`, `${NOW_SEC}.5`, `0${NOW_SEC}`, '1e9', ` ${NOW_SEC}x`])(
    'timestamp %j → WEBHOOK_TIMESTAMP_INVALID (parseInt would accept some of these)',
    (ts) => {
      expect(verify({ ...d.headers, 'webhook-timestamp': ts }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_INVALID' });
    },
  );

  it('timestamp 301 s old → WEBHOOK_TIMESTAMP_SKEW; 300 s old is accepted', () => {
    const old = signed({ tsSec: NOW_SEC - 301 });
    expect(verify(old.headers, old.body)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    const edge = signed({ tsSec: NOW_SEC - 300 });
    expect(verify(edge.headers, edge.body).ok).toBe(true);
  });

  it('timestamp 301 s in the future → WEBHOOK_TIMESTAMP_SKEW; 300 s ahead is accepted', () => {
    const future = signed({ tsSec: NOW_SEC + 301 });
    expect(verify(future.headers, future.body)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    const edge = signed({ tsSec: NOW_SEC + 300 });
    expect(verify(edge.headers, edge.body).ok).toBe(true);
  });

  it('honours a configured tolerance', () => {
    const d11 = signed({ tsSec: NOW_SEC - 11 });
    expect(verify(d11.headers, d11.body, undefined, NOW_MS, 10)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    expect(verify(d11.headers, d11.body, undefined, NOW_MS, 11).ok).toBe(true);
  });

  it('tampered body, id or timestamp → WEBHOOK_SIGNATURE_MISMATCH', () => {
    const body = d.body.slice();
    body[body.length - 2]! ^= 1;
    expect(verify(d.headers, body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
    expect(verify({ ...d.headers, 'webhook-id': 'msg_other' }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
    expect(verify({ ...d.headers, 'webhook-timestamp': String(NOW_SEC - 1) }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });

  it('partial signature (truncated base64) → WEBHOOK_SIGNATURE_MALFORMED', () => {
    const sig = d.headers['webhook-signature'];
    expect(verify({ ...d.headers, 'webhook-signature': sig.slice(0, sig.length - 4) }, d.body)).toEqual({
      ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED',
    });
  });

  it('wrong-length signatures (31 and 33 bytes) → WEBHOOK_SIGNATURE_MALFORMED', () => {
    for (const n of [31, 33]) {
      const sig = `v1,${Buffer.alloc(n, 7).toString('base64')}`;
      expect(verify({ ...d.headers, 'webhook-signature': sig }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED' });
    }
  });

  it('more than MAX_STANDARD_SIGNATURES entries, or an oversized header → WEBHOOK_SIGNATURE_MALFORMED', () => {
    const sig = d.headers['webhook-signature'];
    const many = Array.from({ length: MAX_STANDARD_SIGNATURES }, () => sig.replace(/.$/, 'A')).concat(sig).join(' ');
    expect(verify({ ...d.headers, 'webhook-signature': many }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED' });
    const huge = `${'v2,x '.repeat(1000)}${sig}`;
    expect(verify({ ...d.headers, 'webhook-signature': huge }, d.body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED' });
  });

  it.each(['msg.1', 'msg 1', 'msg\t1', 'x'.repeat(257), 'msg_ä'])('webhook-id %j → WEBHOOK_HEADER_INVALID', (id) => {
    // '.' is the signed-content delimiter: "id.ts.body" must split one way only (spec: ids must not contain '.').
    const h = { ...d.headers };
    const lookup = (name: string) => (name.toLowerCase() === 'webhook-id' ? id : new Headers(h).get(name) ?? undefined);
    expect(verifyStandardWebhook({ body: d.body, header: lookup, secrets: [redact(SECRET)], nowMs: NOW_MS })).toEqual({
      ok: false, code: 'WEBHOOK_HEADER_INVALID',
    });
  });

  it('a header lookup that returns a non-string counts as a missing header', () => {
    const lookup = ((name: string) => (name === 'webhook-signature' ? 42 : d.headers[name as keyof typeof d.headers])) as never;
    expect(verifyStandardWebhook({ body: d.body, header: lookup, secrets: [redact(SECRET)], nowMs: NOW_MS })).toEqual({
      ok: false, code: 'WEBHOOK_SIGNATURE_MISSING',
    });
  });
});

describe('verifyStandardWebhook: raw bytes, not strings', () => {
  const body = new Uint8Array(Buffer.from(raw.bodyBase64, 'base64'));
  const headers = { 'webhook-id': raw.standard.msgId, 'webhook-timestamp': String(raw.standard.timestampSec), 'webhook-signature': raw.standard.signature };

  it('accepts the OpenSSL-generated signature over a non-UTF-8 body', () => {
    expect(verify(headers, body, [redact(raw.standard.secret)], raw.standard.timestampSec * 1000).ok).toBe(true);
  });

  it("rejects the library's signature of the same bytes, which it computes over a lossy string decode", () => {
    const lossy = new Webhook(raw.standard.secret).sign(raw.standard.msgId, new Date(raw.standard.timestampSec * 1000), Buffer.from(body));
    expect(lossy).not.toBe(raw.standard.signature);
    expect(verify({ ...headers, 'webhook-signature': lossy }, body, [redact(raw.standard.secret)], raw.standard.timestampSec * 1000)).toEqual({
      ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH',
    });
  });
});

describe('verifyStandardWebhook: secrets', () => {
  const d = signed();
  it.each([
    ['no secrets', []],
    ['five secrets (above MAX_CANDIDATE_SECRETS)', Array.from({ length: 5 }, () => redact(SECRET))],
    ['an empty secret', [redact('')]],
    ['a 16-byte secret (spec minimum is 24)', [redact(`whsec_${Buffer.alloc(16, 1).toString('base64')}`)]],
    ['a 65-byte secret (spec maximum is 64)', [redact(`whsec_${Buffer.alloc(65, 1).toString('base64')}`)]],
    ['a secret that is not base64', [redact('whsec_not base64!')]],
    ['a secret with a trailing newline', [redact(`${SECRET}\n`)]],
    ['a good secret next to a bad one', [redact(SECRET), redact('whsec_')]],
    ['a bare string instead of Redacted', [SECRET as unknown as Redacted<string>]],
    ['a Redacted number', [redact(42) as unknown as Redacted<string>]],
  ])('%s → WEBHOOK_SECRET_INVALID', (_name, secrets) => {
    expect(verify(d.headers, d.body, secrets as Redacted<string>[])).toEqual({ ok: false, code: 'WEBHOOK_SECRET_INVALID' });
  });

  it('never puts secret material into its result', () => {
    const result = verify(d.headers, d.body, [redact(SECRET)]);
    expect(JSON.stringify(result)).not.toContain(SECRET.slice(6));
  });
});

describe('verifyStandardWebhook: hostile types (programming errors throw)', () => {
  const d = signed();
  it.each(NOT_BYTES)('body = %s → TypeError', (_name, body) => {
    expect(() => verifyStandardWebhook({ body: body as Uint8Array, header: headerLookup(d.headers), secrets: [redact(SECRET)], nowMs: NOW_MS })).toThrow(TypeError);
  });
  it.each(NOT_NON_NEGATIVE_INTEGERS)('nowMs = %s → TypeError or RangeError', (_name, nowMs) => {
    expect(() => verifyStandardWebhook({ body: d.body, header: headerLookup(d.headers), secrets: [redact(SECRET)], nowMs: nowMs as number })).toThrow();
  });
  it('header that is not a function → TypeError; null input → TypeError; bad tolerance → RangeError', () => {
    expect(() => verifyStandardWebhook({ body: d.body, header: d.headers as never, secrets: [], nowMs: NOW_MS })).toThrow(TypeError);
    expect(() => verifyStandardWebhook(null as never)).toThrow(TypeError);
    expect(() => verify(d.headers, d.body, undefined, NOW_MS, -1)).toThrow(RangeError);
  });
});
