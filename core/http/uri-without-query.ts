// The loggable form of a request URI (T1-I): no query, no fragment, no userinfo, no path parameters.

/** Longest URI kept for logs and receipts; the rest is cut and marked. */
export const MAX_LOGGED_URI_CHARS = 2048;

/**
 * Strips everything that may carry a credential from a URI before it is logged or hashed into a receipt:
 * - the query (`?…`) and fragment (`#…`);
 * - userinfo (`https://user:pass@host/` → `https://host/`);
 * - `;`-parameters inside path segments (`/h1;jsessionid=abc/` → `/h1;[REDACTED]/`).
 * The result is cut to {@link MAX_LOGGED_URI_CHARS} characters.
 * @param rawUrl absolute URL or path, as received
 * @returns the URI without its query
 * @example uriWithoutQuery('https://u:p@host/api/hooks/github/h1?code=abc') // 'https://host/api/hooks/github/h1'
 */
export function uriWithoutQuery(rawUrl: string): string {
  if (typeof rawUrl !== 'string') throw new TypeError('"rawUrl" expected string');
  const cut = rawUrl.search(/[?#]/);
  let uri = cut < 0 ? rawUrl : rawUrl.slice(0, cut);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri);
  let prefix = '';
  if (scheme !== null) {
    const rest = uri.slice(scheme[0].length);
    const slash = rest.indexOf('/');
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    prefix = scheme[0] + (at < 0 ? authority : authority.slice(at + 1));
    uri = path;
  }
  const path = uri.split('/').map((s) => (s.includes(';') ? `${s.slice(0, s.indexOf(';'))};[REDACTED]` : s)).join('/');
  const out = prefix + path;
  return out.length > MAX_LOGGED_URI_CHARS ? `${out.slice(0, MAX_LOGGED_URI_CHARS)}…` : out;
}
