// The body digest the GitHub replay key and the Teams fallback id are derived from (T1-S): the caller's precomputed
// digest when it has one in the right shape, else computed here, so a large body is hashed once per request.
import { sha256Hex } from '../crypto/sha256-hex';
import type { VerifyWebhookInput } from './types';

const HEX64_RE = /^[0-9a-f]{64}$/;

/** Lower-case hex SHA-256 of `input.body`. */
export function bodySha256Hex(input: Pick<VerifyWebhookInput, 'body' | 'bodySha256Hex'>): string {
  const given = input.bodySha256Hex;
  if (typeof given === 'string' && HEX64_RE.test(given)) return given;
  return sha256Hex(input.body);
}
