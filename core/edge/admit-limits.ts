// Edge step "limits" (T1-D): global and per-agent rate limits and the tenant budget, decided by one limiter call so a
// distributed limiter needs one round trip. Rate-bound → 429 with Retry-After; quota spent → 403.
import type { EdgeContext, EdgeRejection } from './edge-types';

export async function admitLimits(ctx: EdgeContext): Promise<EdgeRejection | undefined> {
  if (ctx.options.disabled.has('limits')) return undefined;
  const { tenantId, hook } = ctx;
  if (tenantId === undefined || hook === undefined) throw new TypeError('admitLimits needs a bound tenant');
  const admission = await ctx.deps.limiter.admit(tenantId, hook.registration.agentId, 0, { abortSignal: ctx.request.abortSignal });
  switch (admission.outcome) {
    case 'allowed':
      return undefined;
    case 'rate-limited':
      return {
        code: 'LIMIT_RATE_EXCEEDED',
        message: `rate limit reached (${admission.scope})`,
        retryAfterMs: Math.max(0, admission.retryAfterMs),
      };
    case 'quota-spent':
      return { code: 'LIMIT_QUOTA_EXCEEDED', message: `tenant ${admission.scope} quota spent` };
    default:
      throw new TypeError('unknown admission outcome');
  }
}
