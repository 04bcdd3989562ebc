// Turns a hook's configured secrets into MAC keys, per channel (T1-S). A secret that cannot be a key fails closed with
// WEBHOOK_SECRET_INVALID instead of silently MACing garbage; the reason never contains the secret.
import { decodeBase64Strict, utf8ToBytes } from '../crypto/strict-encoding';
import { Redacted } from '../secrets/redacted';
import { MAX_CANDIDATE_SECRETS, type WebhookChannel } from './types';

/** Standard Webhooks: "Random. Between 24 bytes (192 bits) and 64 bytes (512 bits)", base64, `whsec_` prefix. */
export const STANDARD_SECRET_MIN_BYTES = 24;
export const STANDARD_SECRET_MAX_BYTES = 64;
const WHSEC_PREFIX = 'whsec_';
// A pasted secret with a trailing newline or tab is the classic "signatures never match" support case: refuse it.
const CONTROL_CHARS_RE = /[\u0000-\u001f\u007f]/;

export type SecretCheck = { ok: true } | { ok: false; code: 'WEBHOOK_SECRET_INVALID'; reason: string };

/**
 * Decodes one configured secret into MAC key bytes for `channel`:
 * - `standard`: optional `whsec_` prefix, then canonical base64 of 24..64 bytes;
 * - `github`, `slack`: the secret's UTF-8 bytes (both providers MAC with the string itself), non-empty, no control chars;
 * - `teams`: the security token is base64; the key is its decoded bytes (Microsoft's outgoing-webhook sample).
 * @returns key bytes, or a reason (free of secret material) why the secret is unusable
 */
export function decodeSecretKey(
  channel: WebhookChannel,
  secret: unknown,
): { ok: true; key: Uint8Array } | Extract<SecretCheck, { ok: false }> {
  if (!(secret instanceof Redacted)) return bad('secret must be a Redacted<string>');
  const text: unknown = secret.reveal();
  if (typeof text !== 'string' || text.length === 0) return bad('secret is empty or not a string');
  switch (channel) {
    case 'standard': {
      const b64 = text.startsWith(WHSEC_PREFIX) ? text.slice(WHSEC_PREFIX.length) : text;
      const key = decodeBase64Strict(b64);
      if (key === undefined) return bad('secret is not canonical base64 (after an optional whsec_ prefix)');
      if (key.length < STANDARD_SECRET_MIN_BYTES || key.length > STANDARD_SECRET_MAX_BYTES) {
        key.fill(0);
        return bad(`secret must decode to ${STANDARD_SECRET_MIN_BYTES}..${STANDARD_SECRET_MAX_BYTES} bytes`);
      }
      return { ok: true, key };
    }
    case 'github':
    case 'slack':
      if (CONTROL_CHARS_RE.test(text)) return bad('secret contains control characters (a pasted newline?)');
      return { ok: true, key: utf8ToBytes(text) };
    case 'teams': {
      const key = decodeBase64Strict(text);
      if (key === undefined || key.length === 0) return bad('security token is not canonical, non-empty base64');
      return { ok: true, key };
    }
    default:
      return bad('unknown channel');
  }
}

/**
 * Decodes every candidate secret, or none: one unusable secret fails the whole set, so a botched rotation shows up at
 * once instead of working by luck on the other secret.
 * @returns the keys (caller zero-fills them after use), or undefined
 */
export function decodeSecretKeys(channel: WebhookChannel, secrets: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.length > MAX_CANDIDATE_SECRETS) return undefined;
  const keys: Uint8Array[] = [];
  for (const secret of secrets) {
    const decoded = decodeSecretKey(channel, secret);
    if (!decoded.ok) {
      wipe(keys);
      return undefined;
    }
    keys.push(decoded.key);
  }
  return keys;
}

/**
 * For the admin API and CLI: checks a secret before it is stored in a hook registration, so a bad secret is refused at
 * configuration time rather than as a stream of 401s.
 * @example validateWebhookSecret('standard', redact('whsec_…'))
 */
export function validateWebhookSecret(channel: WebhookChannel, secret: Redacted<string>): SecretCheck {
  const decoded = decodeSecretKey(channel, secret);
  if (!decoded.ok) return decoded;
  decoded.key.fill(0);
  return { ok: true };
}

/** Zero-fills key buffers. JS gives no guarantee that no copy survives, but this one will not. */
export function wipe(keys: Uint8Array[]): void {
  for (const key of keys) key.fill(0);
}

const bad = (reason: string): { ok: false; code: 'WEBHOOK_SECRET_INVALID'; reason: string } =>
  ({ ok: false, code: 'WEBHOOK_SECRET_INVALID', reason });
