// LOCAL STAND-IN for the Azure control plane's caller check: the local stack's management endpoints (broker entities
// and role assignments, identity stand-in workload identities) answer only a bearer key the stack creates at start
// and hands to its own processes. Azure Resource Manager checks an Entra token and Owner rights instead.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** At least 128 bits: the key is random per stack start (crypto.randomBytes(24), base64url). */
export const MIN_ADMIN_KEY_LENGTH = 22;

/** Constant-time check of `Authorization: Bearer <key>`; false for a missing or malformed header. */
export function hasAdminKey(req: IncomingMessage, adminKey: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const presented = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(adminKey);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
