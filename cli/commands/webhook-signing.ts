// Signs a webhook exactly as each channel's sender does (T1-S), for `kars webhook send`: Standard Webhooks v1,
// GitHub X-Hub-Signature-256, Slack v0, Teams outgoing-webhook HMAC. Over the raw body bytes.
import { hmacSha256 } from '../../core/crypto/hmac-sha256';
import { bytesToBase64, bytesToHex, decodeBase64Strict, utf8ToBytes } from '../../core/crypto/strict-encoding';
import { KarsError } from '../../core/errors';
import type { Redacted } from '../../core/secrets/redacted';
import type { WebhookChannel } from '../../core/webhook/types';

export interface SignWebhookOptions {
  /** Delivery id: `webhook-id` (standard) or `X-GitHub-Delivery` (github); ignored by slack and teams. */
  id: string;
  /** Unix seconds signed by standard and slack. */
  timestampSec: number;
  /** X-GitHub-Event (github only). */
  eventType?: string;
}

/**
 * @returns the headers the channel's sender would add (content type included)
 * @throws KarsError INPUT_INVALID when the secret cannot be a key for the channel (the message never quotes it)
 */
export function signWebhookRequest(channel: WebhookChannel, secret: Redacted<string>, body: Uint8Array, options: SignWebhookOptions): Record<string, string> {
  const json = { 'content-type': 'application/json' };
  switch (channel) {
    case 'standard': {
      const text = secret.reveal();
      const key = decodeBase64Strict(text.startsWith('whsec_') ? text.slice(6) : text);
      if (key === undefined || key.length < 24) throw new KarsError('INPUT_INVALID', 'standard secret must be whsec_<base64 of >= 24 bytes>');
      const mac = hmacSha256(key, utf8ToBytes(`${options.id}.${options.timestampSec}.`), body);
      key.fill(0);
      return { ...json, 'webhook-id': options.id, 'webhook-timestamp': String(options.timestampSec), 'webhook-signature': `v1,${bytesToBase64(mac)}` };
    }
    case 'github': {
      const mac = hmacSha256(utf8ToBytes(secret.reveal()), body);
      return { ...json, 'x-hub-signature-256': `sha256=${bytesToHex(mac)}`, 'x-github-delivery': options.id, 'x-github-event': options.eventType ?? 'ping' };
    }
    case 'slack': {
      const mac = hmacSha256(utf8ToBytes(secret.reveal()), utf8ToBytes(`v0:${options.timestampSec}:`), body);
      return { ...json, 'x-slack-signature': `v0=${bytesToHex(mac)}`, 'x-slack-request-timestamp': String(options.timestampSec) };
    }
    case 'teams': {
      const key = decodeBase64Strict(secret.reveal());
      if (key === undefined || key.length === 0) throw new KarsError('INPUT_INVALID', 'teams security token must be base64');
      const mac = hmacSha256(key, body);
      key.fill(0);
      return { ...json, authorization: `HMAC ${bytesToBase64(mac)}` };
    }
    default:
      throw new KarsError('INPUT_INVALID', 'unknown channel');
  }
}

/** A small, schema-valid sample event per channel, so `kars webhook send` works without a body file. */
export function sampleWebhookBody(channel: WebhookChannel, nowMs: number, id: string): { body: string; eventType?: string } {
  const iso = new Date(nowMs).toISOString();
  switch (channel) {
    case 'standard':
      return { body: JSON.stringify({ type: 'kars.demo', timestamp: iso, data: { id, message: 'hello from kars webhook send' } }) };
    case 'github':
      return { body: JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }), eventType: 'ping' };
    case 'slack':
      return { body: JSON.stringify({ token: 'unused', challenge: `kars-${id}`, type: 'url_verification' }) };
    case 'teams':
      return {
        body: JSON.stringify({
          type: 'message', id, timestamp: iso, text: 'hello from kars webhook send',
          from: { id: 'kars-cli', name: 'kars CLI' }, conversation: { id: 'kars-cli-conversation' },
        }),
      };
    default:
      throw new KarsError('INPUT_INVALID', 'unknown channel');
  }
}
