// Emulates the Functions host's key check for authLevel function/admin. Keys are accepted from the header only:
// a key in a query string ends up in access logs (T1-I).
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthLevel } from '../../../functions/route-def';

export interface FunctionKeys {
  functionKey: string;
  masterKey: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Compares fixed-length digests so neither length nor content leaks through timing. */
function keyMatches(presented: string, expected: string): boolean {
  return expected.length > 0 && timingSafeEqual(digest(presented), digest(expected));
}

export function isAuthorized(level: AuthLevel, req: IncomingMessage, keys: FunctionKeys): boolean {
  if (level === 'anonymous') return true;
  const raw = req.headers['x-functions-key'];
  const presented = Array.isArray(raw) ? raw[0] : raw;
  if (!presented) return false;
  if (keyMatches(presented, keys.masterKey)) return true;
  return level === 'function' && keyMatches(presented, keys.functionKey);
}
