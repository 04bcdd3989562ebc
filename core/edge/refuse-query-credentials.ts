// Edge step "query-credentials" (T1-I): the edge's own copy of the every-route rule (core/http/refuse-query-credentials.ts), so a refusal
// here is receipted and counted like every other edge refusal.
import { refuseQueryCredentialUrl } from '../http/refuse-query-credentials';
import type { EdgeContext, EdgeRejection } from './edge-types';

export function refuseQueryCredentials(ctx: EdgeContext): EdgeRejection | undefined {
  if (ctx.options.disabled.has('query-credentials')) return undefined;
  return refuseQueryCredentialUrl(ctx.request.url);
}
