// Slack v0 request-signing verifier over raw body bytes (T1-S forged webhook, T1-T tampered body, replay window).
// Source: docs.slack.dev "Verifying requests from Slack"; slackapi/bolt-js src/receivers/verify-request.ts.
import { sha256Hex } from '../crypto/sha256-hex';
import { decodeHexStrict, utf8ToBytes } from '../crypto/strict-encoding';
import { cachedSecretKeys } from './secret-key-cache';
import { isSafeDeliveryId, parseUnixSeconds, readHeader, toleranceOf, withinTolerance } from './header-values';
import { assertVerifyInput, matchSignature } from './match-signature';
import { parseJsonBody } from './parse-json-body';
import { reject, type VerifyWebhookInput, type VerifyWebhookOptions, type WebhookVerifyResult } from './types';

const SIGNATURE_RE = /^v0=([0-9a-fA-F]{64})$/;

/**
 * Verifies a Slack request: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{ts}:{raw body}")>` and
 * `X-Slack-Request-Timestamp` within ±toleranceSec. bolt-js rejects only stale timestamps; we also reject ones from
 * the future, so a clock-skewed capture cannot be held back and replayed later.
 *
 * Delivery id (Slack sends none in headers), derived from signed content only:
 * - JSON body with a string `event_id` (Events API `event_callback`) → `deliveryId = event_id`, so Slack's retries of
 *   one event (new timestamp, same event_id, `X-Slack-Retry-Num`) collide in the replay store;
 * - otherwise (`url_verification`, form bodies) → `deliveryId = 'slack-' + first 32 hex of SHA-256("v0:{ts}:" ‖ body)`.
 * `replayKey = 'slack:' + deliveryId`.
 *
 * @param input raw body, header lookup, candidate signing secrets, `nowMs`
 * @param options `toleranceSec` (default 300)
 * @returns `{ ok: true, deliveryId, replayKey, timestampSec, secretIndex }` or WEBHOOK_SIGNATURE_MISSING,
 *   WEBHOOK_HEADER_MISSING (timestamp), WEBHOOK_TIMESTAMP_INVALID, WEBHOOK_TIMESTAMP_SKEW, WEBHOOK_SIGNATURE_MALFORMED,
 *   WEBHOOK_SECRET_INVALID, WEBHOOK_SIGNATURE_MISMATCH.
 * @throws {TypeError|RangeError} only for programming errors in `input` or `options`
 * @example verifySlackWebhook({ body, header, secrets: [redact(signingSecret)], nowMs: clock.nowMs() })
 */
export function verifySlackWebhook(input: VerifyWebhookInput, options?: VerifyWebhookOptions): WebhookVerifyResult {
  assertVerifyInput(input);
  const toleranceSec = toleranceOf(options);
  const { body, header, secrets, nowMs } = input;

  const signatureHeader = readHeader(header, 'x-slack-signature');
  if (signatureHeader === undefined) return reject('WEBHOOK_SIGNATURE_MISSING');
  const timestamp = readHeader(header, 'x-slack-request-timestamp');
  if (timestamp === undefined) return reject('WEBHOOK_HEADER_MISSING');
  const timestampSec = parseUnixSeconds(timestamp);
  if (timestampSec === undefined) return reject('WEBHOOK_TIMESTAMP_INVALID');
  if (!withinTolerance(timestampSec, nowMs, toleranceSec)) return reject('WEBHOOK_TIMESTAMP_SKEW');

  const hex = SIGNATURE_RE.exec(signatureHeader)?.[1];
  const offered = hex === undefined ? undefined : decodeHexStrict(hex, 32);
  if (offered === undefined) return reject('WEBHOOK_SIGNATURE_MALFORMED');

  const keys = cachedSecretKeys('slack', secrets);
  if (keys === undefined) return reject('WEBHOOK_SECRET_INVALID');
  const base = utf8ToBytes(`v0:${timestamp}:`);
  const secretIndex = matchSignature(keys, [base, body], [offered]);
  if (secretIndex < 0) return reject('WEBHOOK_SIGNATURE_MISMATCH');

  const deliveryId = slackEventId(body) ?? `slack-${sha256Hex(base, body).slice(0, 32)}`;
  return { ok: true, channel: 'slack', deliveryId, replayKey: `slack:${deliveryId}`, timestampSec, secretIndex };
}

// Parsed only after the MAC matched: unauthenticated bytes never reach JSON.parse here.
function slackEventId(body: Uint8Array): string | undefined {
  if (body[0] !== 0x7b) return undefined; // '{': Events API JSON; slash commands and interactivity are form-encoded
  const parsed = parseJsonBody(body);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return undefined;
  const eventId = (parsed.value as { event_id?: unknown }).event_id;
  return isSafeDeliveryId(eventId) ? eventId : undefined;
}
