// Edge step "tenant" (T1-E): the tenant is the registration's. A caller cannot choose it: an `x-kars-tenant` header that names
// another tenant is refused with 403 instead of being ignored, so a confused or hostile client learns nothing works.
import type { EdgeContext, EdgeRejection } from './edge-types';

export const TENANT_HEADER = 'x-kars-tenant';

export function bindTenant(ctx: EdgeContext): EdgeRejection | undefined {
  const registration = ctx.hook?.registration;
  if (registration === undefined) throw new TypeError('bindTenant needs a resolved hook');
  const claimed = ctx.request.header(TENANT_HEADER);
  if (ctx.options.disabled.has('tenant-binding')) {
    // The naive gateway: trust the header when present.
    ctx.tenantId = claimed ?? registration.tenantId;
    return undefined;
  }
  ctx.tenantId = registration.tenantId;
  if (claimed !== undefined && claimed !== registration.tenantId) {
    return { code: 'WEBHOOK_TENANT_MISMATCH', message: 'tenant does not match the hook registration' };
  }
  return undefined;
}
