import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { verifySlackWebhook } from '../../../core/webhook/verify-slack';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { NOT_BYTES } from '../crypto/hostile-values';
import { headerLookup, utf8 } from './helpers';

interface SlackVector { name: string; secret: string; timestampSec: number; bodyUtf8: string; signature: string; code?: string }
const docs = loadVectors<{ valid: SlackVector[]; invalid: SlackVector[] }>('slack/docs-example.json');
const raw = loadVectors<{ bodyBase64: string; slack: { secret: string; timestampSec: number; signature: string } }>('cross-generated/raw-bytes-openssl.json');

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NEW_SECRET = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const NOW_MS = 1_700_000_000_500;
const NOW_SEC = 1_700_000_000;
const EVENT = JSON.stringify({
  token: 'XXYYZZ', team_id: 'T061EG9R6', api_app_id: 'A0PNCHHK2', type: 'event_callback', event_id: 'Ev0PV52K25', event_time: NOW_SEC,
  event: { type: 'app_mention', user: 'U061F7AUR', text: '<@U0LAN0Z89> hi', ts: '1515449522.000016', channel: 'C0LAN2Q65', event_ts: '1515449522000016' },
});

/** Independent signer (Slack publishes no JS signer library; bolt-js is not a dependency). */
const slackSign = (secret: string, ts: number | string, body: Uint8Array) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex')}`;

function verify(headers: Record<string, string>, body: Uint8Array, secrets = [redact(SECRET)], nowMs = NOW_MS, toleranceSec?: number) {
  return verifySlackWebhook({ body, header: headerLookup(headers), secrets, nowMs }, toleranceSec === undefined ? undefined : { toleranceSec });
}
const headersFor = (signature: string, ts: number | string = NOW_SEC) => ({ 'X-Slack-Signature': signature, 'X-Slack-Request-Timestamp': String(ts) });

describe('verifySlackWebhook: published vector (docs.slack.dev worked example)', () => {
  const v = docs.valid[0]!;
  it('accepts it at the signed instant and derives a hash delivery id for the form body', () => {
    const result = verify(headersFor(v.signature, v.timestampSec), vectorBody(v), [redact(v.secret)], v.timestampSec * 1000);
    expect(result).toMatchObject({ ok: true, channel: 'slack', timestampSec: v.timestampSec, secretIndex: 0 });
    if (result.ok) {
      expect(result.deliveryId).toMatch(/^slack-[0-9a-f]{32}$/);
      expect(result.replayKey).toBe(`slack:${result.deliveryId}`);
    }
  });
  it.each(docs.invalid.map((x) => [x.name, x] as const))('rejects "%s"', (_n, x) => {
    expect(verify(headersFor(x.signature, x.timestampSec), vectorBody(x), [redact(x.secret)], x.timestampSec * 1000)).toEqual({ ok: false, code: x.code });
  });
  it('rejects it 301 s later (stale) and 301 s earlier (from the future: bolt-js would accept this one)', () => {
    const h = headersFor(v.signature, v.timestampSec);
    expect(verify(h, vectorBody(v), [redact(v.secret)], (v.timestampSec + 301) * 1000)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    expect(verify(h, vectorBody(v), [redact(v.secret)], (v.timestampSec - 301) * 1000)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    expect(verify(h, vectorBody(v), [redact(v.secret)], (v.timestampSec + 300) * 1000).ok).toBe(true);
  });
});

describe('verifySlackWebhook: delivery ids', () => {
  it('uses event_id of an Events API callback, so Slack retries of one event collide', () => {
    const body = utf8(EVENT);
    const first = verify(headersFor(slackSign(SECRET, NOW_SEC, body)), body);
    const retry = verify(headersFor(slackSign(SECRET, NOW_SEC + 60, body), NOW_SEC + 60), body, undefined, NOW_MS + 60_000);
    expect(first).toMatchObject({ ok: true, deliveryId: 'Ev0PV52K25', replayKey: 'slack:Ev0PV52K25' });
    expect(retry).toMatchObject({ ok: true, deliveryId: 'Ev0PV52K25' });
  });
  it('falls back to a hash of timestamp and body, stable across header spellings of the signature', () => {
    const body = utf8('{"type":"url_verification","token":"t","challenge":"abc"}');
    const sig = slackSign(SECRET, NOW_SEC, body);
    const a = verify(headersFor(sig), body);
    const b = verify(headersFor(`v0=${sig.slice(3).toUpperCase()}`), body);
    expect(a.ok && b.ok && a.deliveryId === b.deliveryId).toBe(true);
    const c = verify(headersFor(slackSign(SECRET, NOW_SEC + 1, body), NOW_SEC + 1), body);
    expect(c.ok && a.ok && c.deliveryId !== a.deliveryId).toBe(true);
  });
  it('ignores an event_id that is not a safe id', () => {
    const body = utf8(JSON.stringify({ type: 'event_callback', event_id: 'Ev.1 2' }));
    const result = verify(headersFor(slackSign(SECRET, NOW_SEC, body)), body);
    expect(result.ok && result.deliveryId.startsWith('slack-')).toBe(true);
  });
});

describe('verifySlackWebhook: rotation and failure modes', () => {
  const body = utf8(EVENT);
  const good = headersFor(slackSign(SECRET, NOW_SEC, body));

  it('accepts either of two active signing secrets', () => {
    expect(verify(good, body, [redact(NEW_SECRET), redact(SECRET)])).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verify(good, body, [redact(NEW_SECRET)])).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });
  it('missing X-Slack-Signature → WEBHOOK_SIGNATURE_MISSING; missing timestamp → WEBHOOK_HEADER_MISSING', () => {
    expect(verify({ 'X-Slack-Request-Timestamp': String(NOW_SEC) }, body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISSING' });
    expect(verify({ 'X-Slack-Signature': good['X-Slack-Signature'] }, body)).toEqual({ ok: false, code: 'WEBHOOK_HEADER_MISSING' });
  });
  it.each(['soon', `${NOW_SEC}.0`, `+${NOW_SEC}`, `0${NOW_SEC}`])('timestamp %j → WEBHOOK_TIMESTAMP_INVALID', (ts) => {
    expect(verify({ ...good, 'X-Slack-Request-Timestamp': ts }, body)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_INVALID' });
  });
  it('honours a configured tolerance', () => {
    const h = headersFor(slackSign(SECRET, NOW_SEC - 31, body), NOW_SEC - 31);
    expect(verify(h, body, undefined, NOW_MS, 30)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    expect(verify(h, body, undefined, NOW_MS, 31).ok).toBe(true);
  });
  it.each([
    ['v1 prefix', (s: string) => s.replace('v0=', 'v1=')],
    ['partial', (s: string) => s.slice(0, 20)],
    ['wrong length', (s: string) => `${s}ab`],
    ['non-hex', (s: string) => s.replace(/.$/, 'g')],
  ])('%s → WEBHOOK_SIGNATURE_MALFORMED', (_n, mutate) => {
    expect(verify({ ...good, 'X-Slack-Signature': mutate(good['X-Slack-Signature']) }, body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED' });
  });
  it('timestamp swapped for another in-window value → WEBHOOK_SIGNATURE_MISMATCH (the timestamp is signed)', () => {
    expect(verify({ ...good, 'X-Slack-Request-Timestamp': String(NOW_SEC - 1) }, body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });
  it('empty body signed as empty verifies; non-UTF-8 bytes verify against the OpenSSL MAC', () => {
    const empty = new Uint8Array(0);
    expect(verify(headersFor(slackSign(SECRET, NOW_SEC, empty)), empty).ok).toBe(true);
    const rawBody = new Uint8Array(Buffer.from(raw.bodyBase64, 'base64'));
    const h = headersFor(raw.slack.signature, raw.slack.timestampSec);
    expect(verify(h, rawBody, [redact(raw.slack.secret)], raw.slack.timestampSec * 1000).ok).toBe(true);
  });
  it('empty secret → WEBHOOK_SECRET_INVALID', () => {
    expect(verify(good, body, [redact('')])).toEqual({ ok: false, code: 'WEBHOOK_SECRET_INVALID' });
  });
  it.each(NOT_BYTES)('body = %s → TypeError', (_n, b) => {
    expect(() => verify(good, b as Uint8Array)).toThrow(TypeError);
  });
});
