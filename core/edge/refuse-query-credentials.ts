// Step 3 (T1-I): credentials are accepted only in headers. A query string carrying one is refused, because URLs end up
// in proxy, CDN and browser logs the edge does not control; the refusal names the rule, never the parameter or value.
import { findQueryCredentials } from '../http/query-credentials';
import type { EdgeContext, EdgeRejection } from './edge-types';

export function refuseQueryCredentials(ctx: EdgeContext): EdgeRejection | undefined {
  if (ctx.options.disabled.has('query-credentials')) return undefined;
  const findings = findQueryCredentials(ctx.request.url);
  if (findings.length === 0) return undefined;
  const rules = [...new Set(findings.map((f) => f.rule))].slice(0, 5).join(', ');
  return { code: 'HTTP_QUERY_CREDENTIAL', message: `credentials are accepted in headers only (query rule: ${rules})` };
}
