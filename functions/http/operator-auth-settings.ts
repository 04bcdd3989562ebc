// Operator-route authorization settings (Entra ID), parsed once. Azure mode cannot start the operator routes without
// them (they answer 500 CONFIG_INVALID: fail closed); local mode without them leaves the local host's key check as
// the only gate, the stand-in for what the Functions host did before. No setting switches the check off in Azure.
import { z } from 'zod';
import { KarsError } from '../../core/errors';
import type { OperatorAuthPolicy } from '../../core/auth/authorize-operator';

export const DEFAULT_OPERATOR_ROLE = 'Kars.Operator';
const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const schema = z.object({
  KARS_MODE: z.enum(['local', 'azure']).default('azure'),
  // The Entra tenant operators sign in to, and the operator API's app registration (client id or Application ID URI).
  KARS_OPERATOR_TENANT_ID: z.string().regex(GUID).optional(),
  KARS_OPERATOR_AUDIENCE: z.string().regex(/^(api:\/\/[\w.~/-]+|https:\/\/[\w.-]+(\/[\w.~-]*)*|[0-9a-fA-F-]{36})$/).optional(),
  KARS_OPERATOR_ROLE: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,119}$/).default(DEFAULT_OPERATOR_ROLE),
  // Sovereign clouds and the local identity stand-in; default AZURE_AUTHORITY_HOST, else the public cloud.
  KARS_OPERATOR_AUTHORITY_HOST: z.url({ protocol: /^https$/ }).optional(),
  AZURE_AUTHORITY_HOST: z.string().optional(),
});

/** Every setting this module reads that the app documents (AZURE_AUTHORITY_HOST belongs to @azure/identity). */
export const OPERATOR_AUTH_SETTING_KEYS: readonly string[] = ['KARS_OPERATOR_TENANT_ID', 'KARS_OPERATOR_AUDIENCE', 'KARS_OPERATOR_ROLE', 'KARS_OPERATOR_AUTHORITY_HOST'];

/** The settings a deployment must carry (bicep/ sets them on the Function app). */
export const OPERATOR_AUTH_REQUIRED_IN_AZURE: readonly string[] = ['KARS_OPERATOR_TENANT_ID', 'KARS_OPERATOR_AUDIENCE', 'KARS_OPERATOR_ROLE'];

export interface OperatorAuthSettings {
  readonly policy: OperatorAuthPolicy;
  readonly jwksUrl: string;
}

/**
 * @returns the policy, or undefined in local mode when no tenant and audience are configured
 * @throws KarsError CONFIG_INVALID naming the keys (never their values)
 */
export function loadOperatorAuthSettings(env: Readonly<Record<string, string | undefined>>): OperatorAuthSettings | undefined {
  const picked = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid settings: ${keys}`);
  }
  const s = parsed.data;
  const tenantId = s.KARS_OPERATOR_TENANT_ID;
  const audience = s.KARS_OPERATOR_AUDIENCE;
  if (!tenantId && !audience && s.KARS_MODE === 'local') return undefined;
  if (!tenantId || !audience) throw new KarsError('CONFIG_INVALID', 'invalid or missing settings: KARS_OPERATOR_TENANT_ID and KARS_OPERATOR_AUDIENCE (operator routes need Entra ID)');
  const authority = (s.KARS_OPERATOR_AUTHORITY_HOST ?? (s.AZURE_AUTHORITY_HOST?.startsWith('https://') ? s.AZURE_AUTHORITY_HOST : DEFAULT_AUTHORITY_HOST)).replace(/\/+$/, '');
  const tenantLower = tenantId.toLowerCase();
  return {
    jwksUrl: `${authority}/${tenantLower}/discovery/v2.0/keys`,
    policy: {
      tenantId: tenantLower,
      role: s.KARS_OPERATOR_ROLE,
      // v2.0 access tokens (the app registration sets requestedAccessTokenVersion 2; docs/deploy.md).
      issuers: [`${authority}/${tenantLower}/v2.0`],
      // A v2 token's aud is the client id; an Application ID URI names the same API.
      audiences: GUID.test(audience) ? [audience.toLowerCase(), `api://${audience.toLowerCase()}`] : [audience],
      maxLifetimeSec: 2 * 3600,
      clockSkewSec: 60,
    },
  };
}
