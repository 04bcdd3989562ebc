// Which model calls may be sent twice, and how long to wait first (T3-D). Only idempotent calls are retried (GET,
// HEAD, embeddings); chat completions and responses never are, because a repeat is a second billed generation with
// possibly different side effects (tool calls). Azure answers 429 with `retry-after-ms` and `retry-after`.

export type UpstreamOperation = 'chat' | 'responses' | 'embeddings' | 'other';

export interface UpstreamCall {
  /** HTTP method of the upstream request. */
  readonly method: string;
  readonly operation: UpstreamOperation;
}

/** At most this many attempts per call, failovers included: a failing upstream sees bounded load. */
export const MAX_UPSTREAM_ATTEMPTS = 3;
/** Waits before the 1st and 2nd retry of a deployment already tried, unless Retry-After asks for longer. */
export const DEFAULT_BACKOFF_MS: readonly number[] = [250, 750];
/** A Retry-After longer than this is not waited out: the call ends and the agent sees the 429/503 itself. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 10_000;

/** GET and HEAD, and embeddings (same input, same vectors, nothing generated twice); never chat or responses. */
export function isIdempotentCall(call: UpstreamCall): boolean {
  const m = call.method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return true;
  return call.operation === 'embeddings';
}

/** 429 and 5xx: the deployment refused or failed the call; move on (fail over, or retry if idempotent). */
export const isFailoverStatus = (status: number): boolean => status === 429 || (status >= 500 && status <= 599);

/**
 * The server's requested wait in ms: `retry-after-ms` (Azure), else `retry-after` as delta-seconds or an HTTP-date.
 * @returns undefined when neither is present and valid
 */
export function parseRetryAfterMs(header: (name: string) => string | undefined, nowMs: number): number | undefined {
  const ms = header('retry-after-ms')?.trim();
  if (ms !== undefined && /^[0-9]{1,9}(\.[0-9]+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = header('retry-after')?.trim();
  if (ra === undefined || ra === '') return undefined;
  if (/^[0-9]{1,9}$/.test(ra)) return Number(ra) * 1000;
  const at = Date.parse(ra);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}
