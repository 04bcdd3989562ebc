// Header redaction by allowlist (T1-I): a header is logged with its value only when it is known to be harmless;
// everything else, including every signature and Authorization header, becomes [REDACTED].

export const REDACTED_VALUE = '[REDACTED]';
/** Longest value kept for an allowlisted header (User-Agent and friends are attacker-chosen). */
export const MAX_LOGGED_HEADER_CHARS = 256;

/**
 * Lower-case names whose values may be logged. Signature headers (`webhook-signature`, `x-hub-signature-256`,
 * `x-slack-signature`), `authorization`, `cookie`, `x-functions-key` and anything unknown are not listed.
 * Client addresses (`x-forwarded-for`) are left out as personal data.
 */
export const DEFAULT_HEADER_ALLOWLIST: ReadonlySet<string> = new Set([
  'accept', 'accept-encoding', 'content-encoding', 'content-length', 'content-type', 'host', 'transfer-encoding',
  'user-agent', 'traceparent', 'tracestate', 'x-request-id', 'x-correlation-id', 'x-ms-request-id',
  'webhook-id', 'webhook-timestamp',
  'x-github-event', 'x-github-delivery', 'x-github-hook-id', 'x-github-hook-installation-target-id',
  'x-github-hook-installation-target-type',
  'x-slack-request-timestamp', 'x-slack-retry-num', 'x-slack-retry-reason',
  'x-kars-tenant',
]);

export type HeaderSource =
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Returns a log-safe copy of `headers`: names lower-cased; allowlisted values kept (control characters replaced with
 * U+FFFD, cut to {@link MAX_LOGGED_HEADER_CHARS}); every other value replaced by `[REDACTED]`. Repeated names are
 * joined with `, `. The result has no prototype, so a header named `__proto__` is just a key.
 * @param headers a fetch `Headers` (iterable of [name, value]) or a Node-style record
 * @param allowlist lower-case names to keep, default {@link DEFAULT_HEADER_ALLOWLIST}
 * @example redactHeaders(request.headers) // { 'content-type': 'application/json', authorization: '[REDACTED]' }
 */
export function redactHeaders(headers: HeaderSource, allowlist: ReadonlySet<string> = DEFAULT_HEADER_ALLOWLIST): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [rawName, rawValue] of entriesOf(headers)) {
    const name = rawName.toLowerCase();
    const value = allowlist.has(name) ? sanitize(rawValue) : REDACTED_VALUE;
    const previous = out[name];
    if (previous === undefined || value === REDACTED_VALUE) out[name] = value;
    else out[name] = `${previous}, ${value}`.slice(0, MAX_LOGGED_HEADER_CHARS);
  }
  return out;
}

function* entriesOf(headers: HeaderSource): Iterable<readonly [string, string]> {
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const entry of headers as Iterable<readonly [string, string]>) yield [String(entry[0]), String(entry[1])];
    return;
  }
  for (const [name, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (value === undefined) continue;
    if (typeof value === 'string') yield [name, value];
    else for (const v of value) yield [name, String(v)];
  }
}

function sanitize(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
  return clean.length > MAX_LOGGED_HEADER_CHARS ? `${clean.slice(0, MAX_LOGGED_HEADER_CHARS)}…` : clean;
}
