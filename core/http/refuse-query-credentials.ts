// T1-I: credentials are accepted in headers only, on every route. A query string carrying one is refused, because URLs
// end up in proxy, CDN and browser logs nobody here controls, and the Azure Functions host itself reads `?code=`. The
// refusal names the rule, never the parameter or its value.
import { findQueryCredentials } from './query-credentials';

export interface QueryCredentialRefusal {
  readonly code: 'HTTP_QUERY_CREDENTIAL';
  readonly message: string;
}

/** @returns the refusal for a URL whose query carries a credential, undefined for a clean one */
export function refuseQueryCredentialUrl(rawUrl: string): QueryCredentialRefusal | undefined {
  const findings = findQueryCredentials(rawUrl);
  if (findings.length === 0) return undefined;
  const rules = [...new Set(findings.map((f) => f.rule))].slice(0, 5).join(', ');
  return { code: 'HTTP_QUERY_CREDENTIAL', message: `credentials are accepted in headers only (query rule: ${rules})` };
}
