// Finds credentials carried in a URL query string (T1-I "API key in URL leaks via logs"): the edge answers 400
// HTTP_QUERY_CREDENTIAL and accepts tokens only in headers. Azure Functions itself reads function keys from `?code=`.
import { percentDecodeDeep } from './percent-decode';

export interface QueryCredentialFinding {
  /** Which rule matched: a canonical parameter name (`token`, `apikey`), a suffix rule, or a value shape (`jwt`). */
  readonly rule: string;
  /** Whether the parameter's name or its value gave it away. Neither the raw name nor the value is ever returned. */
  readonly via: 'name' | 'value';
}

/**
 * Canonical names (lower-case, separators removed, so `access_token`, `Access-Token` and `accessToken` all match
 * `accesstoken`). `sig` carries an Azure SAS signature; `sv` (signed version), `se` (signed expiry) and the user
 * delegation `skoid`/`sktid` mark a SAS URL even when its signature was cut off into another parameter.
 */
export const CREDENTIAL_PARAM_NAMES: ReadonlySet<string> = new Set([
  'code', 'token', 'key', 'sig', 'signature', 'accesstoken', 'apikey', 'secret', 'password', 'passwd', 'pwd',
  'clientsecret', 'auth', 'authorization', 'jwt', 'sas', 'sastoken', 'sharedaccesssignature', 'bearer', 'hmac',
  'refreshtoken', 'idtoken', 'sessionid', 'session', 'privatekey', 'clientassertion', 'subscriptionkey', 'otp',
  'credential', 'credentials', 'xfunctionskey', 'passcode', 'sv', 'se', 'skoid', 'sktid',
]);

/** Any name ending in one of these is treated as a credential too (`github_token`, `db-password`, `hostkey`). */
export const CREDENTIAL_NAME_SUFFIXES: readonly string[] = [
  'token', 'secret', 'password', 'passwd', 'apikey', 'signature', 'credential', 'credentials', 'privatekey',
  'accesskey', 'sessionid', 'key',
];

/** Value shapes that are credentials whatever the parameter is called. */
const CREDENTIAL_VALUE_SHAPES: ReadonlyArray<readonly [string, RegExp]> = [
  ['jwt', /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*$/],
  ['bearer', /^bearer\s+\S+/i],
  ['standard-webhooks-secret', /^wh(?:sec|sk|pk)_[A-Za-z0-9+/=]{8,}/],
  ['github-token', /^(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/],
  ['slack-token', /^xox[abposre]-[A-Za-z0-9-]{8,}/],
  ['api-key-sk', /^sk-[A-Za-z0-9_-]{16,}/],
  ['aws-access-key', /^(?:AKIA|ASIA)[0-9A-Z]{16}$/],
  ['pem', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
];

/**
 * Lists the credential-like parameters of a URL's query string. Names are percent-decoded (repeatedly, leniently),
 * `+` is a space, Unicode is NFKC-folded (full-width letters), case is ignored, separators `_ - . space` are dropped,
 * and bracketed names are split (`auth[token]` checks `auth` and `token`). Both `&` and `;` separate parameters, as
 * some frameworks split on either. The fragment is ignored (browsers never send it).
 * @param rawUrl absolute URL, or path with query, exactly as received
 * @returns one finding per matching parameter (empty when the query is clean or absent)
 * @example findQueryCredentials('/api/hooks/github/h1?code=abc') // [{ rule: 'code', via: 'name' }]
 */
export function findQueryCredentials(rawUrl: string): QueryCredentialFinding[] {
  if (typeof rawUrl !== 'string') throw new TypeError('"rawUrl" expected string');
  const hash = rawUrl.indexOf('#');
  const beforeFragment = hash < 0 ? rawUrl : rawUrl.slice(0, hash);
  const q = beforeFragment.indexOf('?');
  if (q < 0) return [];
  const findings: QueryCredentialFinding[] = [];
  for (const part of beforeFragment.slice(q + 1).split(/[&;]/)) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const nameRule = credentialNameRule(percentDecodeDeep(rawName));
    if (nameRule !== undefined) {
      findings.push({ rule: nameRule, via: 'name' });
      continue;
    }
    const value = percentDecodeDeep(rawValue).trim();
    const shape = CREDENTIAL_VALUE_SHAPES.find(([, re]) => re.test(value));
    if (shape !== undefined) findings.push({ rule: shape[0], via: 'value' });
  }
  return findings;
}

/** True when {@link findQueryCredentials} finds anything. */
export function hasQueryCredential(rawUrl: string): boolean {
  return findQueryCredentials(rawUrl).length > 0;
}

function credentialNameRule(decodedName: string): string | undefined {
  const folded = decodedName.normalize('NFKC').toLowerCase();
  for (const segment of folded.split(/[[\]]+/)) {
    const canonical = segment.replace(/[^a-z0-9]/g, '');
    if (canonical.length === 0) continue;
    if (CREDENTIAL_PARAM_NAMES.has(canonical)) return canonical;
    const suffix = CREDENTIAL_NAME_SUFFIXES.find((s) => canonical.endsWith(s));
    if (suffix !== undefined) return `*${suffix}`;
  }
  return undefined;
}
