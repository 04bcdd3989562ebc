// Settings of the router-receipt route, parsed at its first request (the route answers CONFIG_INVALID until they are
// valid). The routers' tokens come from the cluster's OIDC issuer, the same one the mesh routes trust
// (KARS_MESH_OIDC_ISSUER / _JWKS_URL), but for their own audience, `kars-audit`: a token projected for the mesh
// client cannot write the sandbox's audit trail, nor an audit token act on the mesh (one purpose per token).
import { z } from 'zod';
import { KarsError } from '../../core/errors';

export const ROUTER_AUDIT_TOKEN_AUDIENCE = 'kars-audit';

const schema = z.object({
  KARS_MESH_OIDC_ISSUER: z.url(),
  KARS_MESH_OIDC_JWKS_URL: z.url(),
  KARS_AUDIT_ROUTER_TOKEN_AUDIENCE: z.string().min(1).max(256).default(ROUTER_AUDIT_TOKEN_AUDIENCE),
  KARS_MESH_ROUTER_SERVICE_ACCOUNTS: z.string().regex(/^[a-z0-9-]{1,63}(,[a-z0-9-]{1,63})*$/).default('kars-router'),
});

/** Every setting this module reads. */
export const ROUTER_AUDIT_SETTING_KEYS: readonly string[] = Object.keys(schema.shape);

export interface RouterAuditSettings {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  readonly serviceAccounts: readonly string[];
}

/** @throws KarsError CONFIG_INVALID naming the offending keys (never their values) */
export function loadRouterAuditSettings(env: Readonly<Record<string, string | undefined>>): RouterAuditSettings {
  const picked = Object.fromEntries(ROUTER_AUDIT_SETTING_KEYS.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${keys}`);
  }
  const s = parsed.data;
  return {
    issuer: s.KARS_MESH_OIDC_ISSUER, jwksUrl: s.KARS_MESH_OIDC_JWKS_URL, audience: s.KARS_AUDIT_ROUTER_TOKEN_AUDIENCE,
    serviceAccounts: s.KARS_MESH_ROUTER_SERVICE_ACCOUNTS.split(','),
  };
}
