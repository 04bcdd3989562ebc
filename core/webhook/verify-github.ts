// GitHub webhook verifier: X-Hub-Signature-256 over the raw body (T1-S forged webhook, T1-T tampered body).
// Source: docs.github.com "Validating webhook deliveries"; octokit/webhooks-methods src/node/verify.ts.
import { decodeHexStrict } from '../crypto/strict-encoding';
import { bodySha256Hex } from './body-digest';
import { cachedSecretKeys } from './secret-key-cache';
import { isSafeDeliveryId, isSafeEventName, readHeader } from './header-values';
import { assertVerifyInput, matchSignature } from './match-signature';
import { reject, type VerifyWebhookInput, type VerifyWebhookOptions, type WebhookVerifyResult } from './types';

const SIGNATURE_RE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Verifies a GitHub delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, plus the
 * `X-GitHub-Delivery` id and `X-GitHub-Event` name, both required. The legacy SHA-1 `X-Hub-Signature` is ignored.
 *
 * GitHub signs no timestamp and not its headers. So: `timestampSec` is absent, `eventType` is unsigned (the event
 * schema must agree with the body), and `replayKey` is `github:` + SHA-256 of the body — a replayed body with a fresh
 * X-GitHub-Delivery header still collides. GitHub's own redelivery reuses both the id and the body.
 *
 * @param input raw body, header lookup, candidate secrets (the webhook secret strings), `nowMs` (unused: no timestamp)
 * @param _options accepted for a uniform signature; GitHub has no timestamp to bound
 * @returns `{ ok: true, deliveryId: X-GitHub-Delivery, replayKey, eventType: X-GitHub-Event, secretIndex }` or
 *   WEBHOOK_SIGNATURE_MISSING, WEBHOOK_SIGNATURE_MALFORMED (prefix, non-hex, length ≠ 32 bytes), WEBHOOK_HEADER_MISSING,
 *   WEBHOOK_HEADER_INVALID, WEBHOOK_SECRET_INVALID, WEBHOOK_SIGNATURE_MISMATCH.
 * @throws {TypeError|RangeError} only for programming errors in `input`
 * @example verifyGithubWebhook({ body, header, secrets: [redact(secret)], nowMs: clock.nowMs() })
 */
export function verifyGithubWebhook(input: VerifyWebhookInput, _options?: VerifyWebhookOptions): WebhookVerifyResult {
  assertVerifyInput(input);
  const { body, header, secrets } = input;

  const signatureHeader = readHeader(header, 'x-hub-signature-256');
  if (signatureHeader === undefined) return reject('WEBHOOK_SIGNATURE_MISSING');
  const hex = SIGNATURE_RE.exec(signatureHeader)?.[1];
  const offered = hex === undefined ? undefined : decodeHexStrict(hex, 32);
  if (offered === undefined) return reject('WEBHOOK_SIGNATURE_MALFORMED');

  const deliveryId = readHeader(header, 'x-github-delivery');
  const eventType = readHeader(header, 'x-github-event');
  if (deliveryId === undefined || eventType === undefined) return reject('WEBHOOK_HEADER_MISSING');
  if (!isSafeDeliveryId(deliveryId) || !isSafeEventName(eventType)) return reject('WEBHOOK_HEADER_INVALID');

  const keys = cachedSecretKeys('github', secrets);
  if (keys === undefined) return reject('WEBHOOK_SECRET_INVALID');
  const secretIndex = matchSignature(keys, [body], [offered]);
  if (secretIndex < 0) return reject('WEBHOOK_SIGNATURE_MISMATCH');
  return { ok: true, channel: 'github', deliveryId, replayKey: `github:${bodySha256Hex(input)}`, eventType, secretIndex };
}
