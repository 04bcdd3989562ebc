// Standard Webhooks v1 (symmetric) verifier over raw body bytes (T1-S forged webhook, T1-T tampered body, replay input).
// Spec: standard-webhooks/standard-webhooks spec/standard-webhooks.md, "Signature scheme" and "Verifying signatures".
import { decodeBase64Strict, utf8ToBytes } from '../crypto/strict-encoding';
import { cachedSecretKeys } from './secret-key-cache';
import { isSafeDeliveryId, MAX_HEADER_CHARS, parseUnixSeconds, readHeader, toleranceOf, withinTolerance } from './header-values';
import { assertVerifyInput, matchSignature } from './match-signature';
import { reject, type VerifyWebhookInput, type VerifyWebhookOptions, type WebhookVerifyResult } from './types';

/** Most space-separated entries read from `webhook-signature`; a rotation needs two, the spec example has two. */
export const MAX_STANDARD_SIGNATURES = 16;

/**
 * Verifies a Standard Webhooks delivery: `webhook-id`, `webhook-timestamp`, and `webhook-signature` holding a
 * space-separated list of `v1,<base64 HMAC-SHA256>` entries over `{id}.{timestamp}.{raw body}`.
 *
 * Order: signature header present → id and timestamp present → id charset (no '.', the delimiter) → canonical integer
 * timestamp → within ±toleranceSec (both directions) → signature list parsed (unknown versions such as `v1a`, `v2`
 * skipped; each `v1` value must be canonical base64 of 32 bytes) → secrets decoded → constant-time match against every
 * (secret, signature) pair. The body is MACed as bytes; it is never decoded, so non-UTF-8 bodies verify exactly.
 *
 * @param input raw body, header lookup, candidate secrets (`whsec_…` or bare base64), `nowMs`
 * @param options `toleranceSec` (default 300)
 * @returns `{ ok: true, deliveryId: webhook-id, replayKey: 'standard:' + id, timestampSec, secretIndex }` or one code:
 *   WEBHOOK_SIGNATURE_MISSING (no header, or no `v1` entry), WEBHOOK_HEADER_MISSING (id or timestamp),
 *   WEBHOOK_HEADER_INVALID (id charset/length), WEBHOOK_TIMESTAMP_INVALID, WEBHOOK_TIMESTAMP_SKEW,
 *   WEBHOOK_SIGNATURE_MALFORMED (every `v1` entry unparseable, or the header oversized), WEBHOOK_SECRET_INVALID,
 *   WEBHOOK_SIGNATURE_MISMATCH.
 * @throws {TypeError|RangeError} only for programming errors: non-byte body, non-function header lookup, bad nowMs
 * @example verifyStandardWebhook({ body, header: (n) => req.headers.get(n) ?? undefined, secrets, nowMs: clock.nowMs() })
 */
export function verifyStandardWebhook(input: VerifyWebhookInput, options?: VerifyWebhookOptions): WebhookVerifyResult {
  assertVerifyInput(input);
  const toleranceSec = toleranceOf(options);
  const { body, header, secrets, nowMs } = input;

  const signatureHeader = readHeader(header, 'webhook-signature');
  if (signatureHeader === undefined) return reject('WEBHOOK_SIGNATURE_MISSING');
  const id = readHeader(header, 'webhook-id');
  const timestamp = readHeader(header, 'webhook-timestamp');
  if (id === undefined || timestamp === undefined) return reject('WEBHOOK_HEADER_MISSING');
  if (!isSafeDeliveryId(id)) return reject('WEBHOOK_HEADER_INVALID');
  const timestampSec = parseUnixSeconds(timestamp);
  if (timestampSec === undefined) return reject('WEBHOOK_TIMESTAMP_INVALID');
  if (!withinTolerance(timestampSec, nowMs, toleranceSec)) return reject('WEBHOOK_TIMESTAMP_SKEW');

  const parsed = parseSignatureList(signatureHeader);
  if (parsed === 'malformed') return reject('WEBHOOK_SIGNATURE_MALFORMED');
  if (parsed.v1.length === 0) return reject(parsed.malformedV1 > 0 ? 'WEBHOOK_SIGNATURE_MALFORMED' : 'WEBHOOK_SIGNATURE_MISSING');

  const keys = cachedSecretKeys('standard', secrets);
  if (keys === undefined) return reject('WEBHOOK_SECRET_INVALID');
  const secretIndex = matchSignature(keys, [utf8ToBytes(`${id}.${timestamp}.`), body], parsed.v1);
  if (secretIndex < 0) return reject('WEBHOOK_SIGNATURE_MISMATCH');
  return { ok: true, channel: 'standard', deliveryId: id, replayKey: `standard:${id}`, timestampSec, secretIndex };
}

/** Splits `v1,<b64> v1a,<b64> …`; returns the decodable v1 MACs and how many v1 entries were not decodable. */
function parseSignatureList(headerValue: string): { v1: Uint8Array[]; malformedV1: number } | 'malformed' {
  if (headerValue.length > MAX_HEADER_CHARS) return 'malformed';
  const entries = headerValue.split(' ').filter((e) => e.length > 0);
  if (entries.length > MAX_STANDARD_SIGNATURES) return 'malformed';
  const v1: Uint8Array[] = [];
  let malformedV1 = 0;
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    const version = comma < 0 ? entry : entry.slice(0, comma);
    if (version !== 'v1') continue; // spec: unknown versions are skipped so new schemes can be added alongside
    const mac = comma < 0 ? undefined : decodeBase64Strict(entry.slice(comma + 1), 32);
    if (mac === undefined) malformedV1 += 1;
    else v1.push(mac);
  }
  return { v1, malformedV1 };
}
