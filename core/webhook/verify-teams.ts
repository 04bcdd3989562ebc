// Microsoft Teams outgoing-webhook verifier: `Authorization: HMAC <base64>` over the raw body (T1-S, T1-T).
// Source: learn.microsoft.com "Create an outgoing webhook" (add-outgoing-webhook) and Microsoft's Node sample: the key
// is the base64-decoded security token, the MAC is HMAC-SHA256 over the request body, base64-encoded.
import { decodeBase64Strict } from '../crypto/strict-encoding';
import { bodySha256Hex } from './body-digest';
import { cachedSecretKeys } from './secret-key-cache';
import { isSafeDeliveryId, MAX_HEADER_CHARS, readHeader, toleranceOf, withinTolerance } from './header-values';
import { assertVerifyInput, matchSignature } from './match-signature';
import { parseJsonBody } from './parse-json-body';
import { reject, type VerifyWebhookInput, type VerifyWebhookOptions, type WebhookVerifyResult } from './types';

const AUTH_RE = /^HMAC +(\S+)$/i;

export interface VerifyTeamsOptions extends VerifyWebhookOptions {
  /**
   * Teams signs no timestamp header, but the signed activity carries `timestamp` (ISO 8601, UTC). Using it bounds how
   * long a captured delivery can be replayed.
   * - `check-if-present` (default): when the body has a parseable `timestamp`, it must be within ±toleranceSec;
   * - `require`: a missing or unparseable `timestamp` is WEBHOOK_TIMESTAMP_INVALID;
   * - `ignore`: never look at it (replays are then bounded only by the replay store's retention).
   */
  readonly activityTimestamp?: 'check-if-present' | 'require' | 'ignore';
}

/**
 * Verifies a Teams outgoing-webhook call. Header: `Authorization: HMAC <base64 HMAC-SHA256(b64decode(token), body)>`
 * (scheme name case-insensitive, value canonical base64 of 32 bytes).
 *
 * Delivery id, from signed content only: the activity's `id` when it is a safe id, else `'teams-' + first 32 hex of
 * SHA-256(body)`. `replayKey = 'teams:' + deliveryId`. `timestampSec` comes from the activity's `timestamp`.
 *
 * @param input raw body, header lookup, candidate security tokens (base64, as Teams shows them), `nowMs`
 * @param options `toleranceSec` (default 300), `activityTimestamp` (default `check-if-present`)
 * @returns `{ ok: true, deliveryId, replayKey, timestampSec?, secretIndex }` or WEBHOOK_SIGNATURE_MISSING,
 *   WEBHOOK_SIGNATURE_MALFORMED, WEBHOOK_SECRET_INVALID, WEBHOOK_SIGNATURE_MISMATCH, WEBHOOK_TIMESTAMP_INVALID,
 *   WEBHOOK_TIMESTAMP_SKEW.
 * @throws {TypeError|RangeError} only for programming errors in `input` or `options`
 * @example verifyTeamsWebhook({ body, header, secrets: [redact(securityToken)], nowMs: clock.nowMs() })
 */
export function verifyTeamsWebhook(input: VerifyWebhookInput, options?: VerifyTeamsOptions): WebhookVerifyResult {
  assertVerifyInput(input);
  const toleranceSec = toleranceOf(options);
  const policy = options?.activityTimestamp ?? 'check-if-present';
  const { body, header, secrets, nowMs } = input;

  const authorization = readHeader(header, 'authorization');
  if (authorization === undefined) return reject('WEBHOOK_SIGNATURE_MISSING');
  if (authorization.length > MAX_HEADER_CHARS) return reject('WEBHOOK_SIGNATURE_MALFORMED');
  const b64 = AUTH_RE.exec(authorization)?.[1];
  const offered = b64 === undefined ? undefined : decodeBase64Strict(b64, 32);
  if (offered === undefined) return reject('WEBHOOK_SIGNATURE_MALFORMED');

  const keys = cachedSecretKeys('teams', secrets);
  if (keys === undefined) return reject('WEBHOOK_SECRET_INVALID');
  const secretIndex = matchSignature(keys, [body], [offered]);
  if (secretIndex < 0) return reject('WEBHOOK_SIGNATURE_MISMATCH');

  // Parsed only after the MAC matched.
  const activity = readActivity(body);
  let timestampSec: number | undefined;
  if (policy !== 'ignore') {
    timestampSec = activity.timestampSec;
    if (timestampSec === undefined) {
      if (policy === 'require' || activity.timestampPresent) return reject('WEBHOOK_TIMESTAMP_INVALID');
    } else if (!withinTolerance(timestampSec, nowMs, toleranceSec)) {
      return reject('WEBHOOK_TIMESTAMP_SKEW');
    }
  }
  const deliveryId = activity.id ?? `teams-${bodySha256Hex(input).slice(0, 32)}`;
  const verified = { ok: true as const, channel: 'teams' as const, deliveryId, replayKey: `teams:${deliveryId}`, secretIndex };
  return timestampSec === undefined ? verified : { ...verified, timestampSec };
}

// ISO 8601 with an explicit zone, as Bot Framework activities carry it (fraction digits vary: .NET writes seven).
const ISO_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function readActivity(body: Uint8Array): { id?: string; timestampSec?: number; timestampPresent: boolean } {
  const parsed = parseJsonBody(body);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    return { timestampPresent: false };
  }
  const { id, timestamp } = parsed.value as { id?: unknown; timestamp?: unknown };
  const out: { id?: string; timestampSec?: number; timestampPresent: boolean } = { timestampPresent: timestamp !== undefined };
  if (isSafeDeliveryId(id)) out.id = id;
  if (typeof timestamp === 'string' && ISO_UTC_RE.test(timestamp)) {
    // Date.parse keeps millisecond precision and ignores extra fraction digits; seconds are all we need.
    const ms = Date.parse(timestamp.replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isFinite(ms)) out.timestampSec = Math.floor(ms / 1000);
  }
  return out;
}
