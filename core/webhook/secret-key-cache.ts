// Decoded MAC keys kept per secret object (T1-S, edge cost): the registry hands out the same Redacted secrets for as
// long as it caches a registration, so each secret is decoded once per registration load instead of once per request.
// Keyed by object identity: a rotation or reload yields new Redacted objects (new keys), and a retired secret is no
// longer passed in by the registry (judged per request), so it stops verifying whatever this cache holds.
import { Redacted } from '../secrets/redacted';
import { decodeSecretKey } from './decode-secret';
import { MAX_CANDIDATE_SECRETS, type WebhookChannel } from './types';

// Weak: an entry lives exactly as long as the registry (or a caller) holds the secret object. One key per channel the
// object was used with (in practice one).
const keys = new WeakMap<Redacted<string>, Partial<Record<WebhookChannel, Uint8Array>>>();
// Once the secret object is collected, its key bytes are zero-filled (the engine may have copied them before; this
// copy at least does not linger with the key in it).
const wipeOnCollect = new FinalizationRegistry<Uint8Array>((key) => key.fill(0));

/**
 * The MAC keys of `secrets` for `channel`, decoded on first use and reused while the same secret objects are passed.
 * The returned arrays are shared: callers must not modify, wipe, store or log them.
 * @returns one key per secret in order, or undefined when the list is not 1..MAX_CANDIDATE_SECRETS Redacted secrets that
 *   all decode (one unusable secret fails the whole set, as {@link decodeSecretKeys} does)
 */
export function cachedSecretKeys(channel: WebhookChannel, secrets: unknown): readonly Uint8Array[] | undefined {
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.length > MAX_CANDIDATE_SECRETS) return undefined;
  const out: Uint8Array[] = [];
  for (const secret of secrets as unknown[]) {
    if (!(secret instanceof Redacted)) return undefined;
    const key = keyOf(channel, secret as Redacted<string>);
    if (key === undefined) return undefined;
    out.push(key);
  }
  return out;
}

function keyOf(channel: WebhookChannel, secret: Redacted<string>): Uint8Array | undefined {
  let perChannel = keys.get(secret);
  const hit = perChannel?.[channel];
  if (hit !== undefined) return hit;
  // A secret that does not decode is not remembered: it fails again, just as cheaply, on the next request.
  const decoded = decodeSecretKey(channel, secret);
  if (!decoded.ok) return undefined;
  if (perChannel === undefined) {
    perChannel = {};
    keys.set(secret, perChannel);
  }
  perChannel[channel] = decoded.key;
  wipeOnCollect.register(secret, decoded.key);
  return decoded.key;
}
