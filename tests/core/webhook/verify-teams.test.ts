import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redact } from '../../../core/secrets/redacted';
import { verifyTeamsWebhook, type VerifyTeamsOptions } from '../../../core/webhook/verify-teams';
import { loadVectors, vectorBody } from '../../vectors/load-vectors';
import { NOT_BYTES } from '../crypto/hostile-values';
import { headerLookup, utf8 } from './helpers';

interface TeamsVector { name: string; securityToken: string; bodyBase64: string; authorization: string; activityTimestampSec?: number; activityId?: string }
const vectors = loadVectors<{ valid: TeamsVector[] }>('teams/openssl-cross-generated.json');
const [activityVector, rawVector] = vectors.valid as [TeamsVector, TeamsVector];

const TOKEN = activityVector.securityToken;
const NEW_TOKEN = Buffer.alloc(32, 0x5a).toString('base64');
const AT_MS = activityVector.activityTimestampSec! * 1000;

/** Independent signer following Microsoft's sample: HMAC-SHA256 keyed with the base64-decoded token. */
const teamsSign = (token: string, body: Uint8Array) =>
  `HMAC ${createHmac('sha256', Buffer.from(token, 'base64')).update(body).digest('base64')}`;

function verify(authorization: string | undefined, body: Uint8Array, nowMs = AT_MS, secrets = [redact(TOKEN)], options?: VerifyTeamsOptions) {
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
  return verifyTeamsWebhook({ body, header: headerLookup(headers), secrets, nowMs }, options);
}

describe('verifyTeamsWebhook: cross-generated vectors', () => {
  it('accepts the message activity; the delivery id is the activity id, the timestamp the activity timestamp', () => {
    expect(verify(activityVector.authorization, vectorBody(activityVector))).toEqual({
      ok: true, channel: 'teams', deliveryId: activityVector.activityId, replayKey: `teams:${activityVector.activityId}`,
      timestampSec: activityVector.activityTimestampSec, secretIndex: 0,
    });
  });
  it('accepts a non-UTF-8 body (no activity: delivery id is a body hash, no timestamp)', () => {
    const result = verify(rawVector.authorization, vectorBody(rawVector));
    expect(result).toMatchObject({ ok: true, secretIndex: 0 });
    expect(result.ok && result.deliveryId).toMatch(/^teams-[0-9a-f]{32}$/);
    expect(result.ok && result.timestampSec).toBe(undefined);
  });
  it('agrees with an independent node:crypto signer', () => {
    expect(teamsSign(TOKEN, vectorBody(activityVector))).toBe(activityVector.authorization);
  });
});

describe('verifyTeamsWebhook: activity timestamp', () => {
  const body = vectorBody(activityVector);
  it('check-if-present: 301 s away in either direction → WEBHOOK_TIMESTAMP_SKEW', () => {
    expect(verify(activityVector.authorization, body, AT_MS + 301_000)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
    expect(verify(activityVector.authorization, body, AT_MS - 301_000)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_SKEW' });
  });
  it('ignore: a week-old capture verifies (this is why the default checks)', () => {
    const result = verify(activityVector.authorization, body, AT_MS + 7 * 86_400_000, undefined, { activityTimestamp: 'ignore' });
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && 'timestampSec' in result).toBe(false);
  });
  it('require: an activity without timestamp → WEBHOOK_TIMESTAMP_INVALID', () => {
    const noTs = utf8(JSON.stringify({ type: 'message', id: '1', text: 'hi' }));
    expect(verify(teamsSign(TOKEN, noTs), noTs, AT_MS, undefined, { activityTimestamp: 'require' })).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_INVALID' });
    expect(verify(teamsSign(TOKEN, noTs), noTs).ok).toBe(true);
  });
  it('a present but unparseable timestamp → WEBHOOK_TIMESTAMP_INVALID', () => {
    const bad = utf8(JSON.stringify({ type: 'message', id: '1', timestamp: 'yesterday' }));
    expect(verify(teamsSign(TOKEN, bad), bad)).toEqual({ ok: false, code: 'WEBHOOK_TIMESTAMP_INVALID' });
  });
  it('reads seven-digit .NET fractions', () => {
    const net = utf8(JSON.stringify({ type: 'message', id: '2', timestamp: '2017-02-01T21:10:07.4371234Z' }));
    expect(verify(teamsSign(TOKEN, net), net)).toMatchObject({ ok: true, timestampSec: activityVector.activityTimestampSec });
  });
});

describe('verifyTeamsWebhook: rotation and failure modes', () => {
  const body = vectorBody(activityVector);
  it('accepts either of two tokens during rotation', () => {
    expect(verify(activityVector.authorization, body, AT_MS, [redact(NEW_TOKEN), redact(TOKEN)])).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verify(activityVector.authorization, body, AT_MS, [redact(NEW_TOKEN)])).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });
  it('scheme name is case-insensitive', () => {
    expect(verify(activityVector.authorization.replace('HMAC', 'hmac'), body).ok).toBe(true);
  });
  it('missing Authorization → WEBHOOK_SIGNATURE_MISSING', () => {
    expect(verify(undefined, body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISSING' });
  });
  it.each([
    ['Bearer scheme', 'Bearer abc.def.ghi'],
    ['no value', 'HMAC'],
    ['partial', activityVector.authorization.slice(0, 20)],
    ['wrong length', `HMAC ${Buffer.alloc(31).toString('base64')}`],
    ['url-safe alphabet', activityVector.authorization.replace(/\//g, '_')], // the vector's MAC contains '/'
  ])('%s → WEBHOOK_SIGNATURE_MALFORMED', (_n, auth) => {
    expect(verify(auth, body)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MALFORMED' });
  });
  it('tampered body → WEBHOOK_SIGNATURE_MISMATCH', () => {
    const t = body.slice();
    t[10]! ^= 0x20;
    expect(verify(activityVector.authorization, t)).toEqual({ ok: false, code: 'WEBHOOK_SIGNATURE_MISMATCH' });
  });
  it('token that is not base64, or empty → WEBHOOK_SECRET_INVALID', () => {
    expect(verify(activityVector.authorization, body, AT_MS, [redact('not base64!')])).toEqual({ ok: false, code: 'WEBHOOK_SECRET_INVALID' });
    expect(verify(activityVector.authorization, body, AT_MS, [redact('')])).toEqual({ ok: false, code: 'WEBHOOK_SECRET_INVALID' });
  });
  it('empty body signed as empty verifies', () => {
    const empty = new Uint8Array(0);
    expect(verify(teamsSign(TOKEN, empty), empty).ok).toBe(true);
  });
  it.each(NOT_BYTES)('body = %s → TypeError', (_n, b) => {
    expect(() => verify(activityVector.authorization, b as Uint8Array)).toThrow(TypeError);
  });
});
