// Parsing of the small header values the verifiers trust: timestamps, delivery ids, event names (T1-S/T1-R).
// Each has exactly one accepted spelling, so a replayed request cannot dodge the replay store by re-spelling an id.
import { anumber } from '../crypto/assert';
import { DEFAULT_TOLERANCE_SEC, type HeaderLookup, type VerifyWebhookOptions } from './types';

/** Longest header value a verifier will look at; longer values are refused before any parsing. */
export const MAX_HEADER_CHARS = 4096;

/** Reads one header; absent, empty or non-string values (a buggy lookup) count as missing. */
export function readHeader(header: HeaderLookup, name: string): string | undefined {
  const value: unknown = header(name);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

// Canonical decimal only: no sign, no leading zeros, no fraction, no exponent. The Standard Webhooks reference library
// uses parseInt, which reads "1614265330abc" as 1614265330; we refuse it.
const UNIX_SECONDS_RE = /^(?:0|[1-9][0-9]{0,11})$/;

/** Parses a Unix-seconds header value, or returns undefined when it is not a canonical integer. */
export function parseUnixSeconds(text: string): number | undefined {
  return UNIX_SECONDS_RE.test(text) ? Number(text) : undefined;
}

/** True when `timestampSec` lies within `toleranceSec` of `nowMs`, in both directions (inclusive, like the spec libs). */
export function withinTolerance(timestampSec: number, nowMs: number, toleranceSec: number): boolean {
  const nowSec = Math.floor(nowMs / 1000);
  return nowSec - timestampSec <= toleranceSec && timestampSec - nowSec <= toleranceSec;
}

// No '.', which is the Standard Webhooks delimiter (spec: ids must not contain '.'), no whitespace or control
// characters (log and receipt injection), bounded length.
const DELIVERY_ID_RE = /^[A-Za-z0-9_\-:+/=@]{1,256}$/;

/** True for a delivery id the edge will log, store and use as a replay key. */
export function isSafeDeliveryId(text: unknown): text is string {
  return typeof text === 'string' && DELIVERY_ID_RE.test(text);
}

const EVENT_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;

/** True for a GitHub-style event name (`push`, `issue_comment`). */
export function isSafeEventName(text: unknown): text is string {
  return typeof text === 'string' && EVENT_NAME_RE.test(text);
}

/**
 * Resolves the tolerance option.
 * @throws {TypeError|RangeError} when `toleranceSec` is not a non-negative integer (a configuration bug)
 */
export function toleranceOf(options: VerifyWebhookOptions | undefined): number {
  return options?.toleranceSec === undefined ? DEFAULT_TOLERANCE_SEC : anumber(options.toleranceSec, 'toleranceSec');
}
