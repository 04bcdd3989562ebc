// Operator routes (/api/manage/*, /api/rollouts*; T1-E "operator API") admit an Entra principal of the deployment's
// tenant holding the operator app role, whatever sits in front (App Service Authentication in Azure, the local host's
// key check locally). 401 for no or an invalid token (RFC 6750 §3.1 invalid_token), 403 for a valid token without
// the role (insufficient_scope). Why a token failed goes to the log, never to the caller.
import type { Clock } from '../ports/clock.port';
import type { TokenSigningKeys } from '../ports/token-signing-keys.port';
import { verifyAccessToken, type AccessTokenPolicy, type TokenRejection } from './verify-access-token';

export interface OperatorAuthPolicy extends AccessTokenPolicy {
  /** The Entra tenant the principal must belong to (`tid`). */
  readonly tenantId: string;
  /** App role value the principal must hold (`roles` claim). */
  readonly role: string;
}

export interface OperatorPrincipal {
  /** Entra object id of the user or service principal. */
  readonly objectId: string;
  /** Client application id the token was issued to (`azp` v2, `appid` v1), when present. */
  readonly clientId?: string;
}

export type OperatorRefusalReason = TokenRejection | 'TOKEN_MISSING' | 'TOKEN_SCHEME' | 'TOKEN_TENANT' | 'TOKEN_PRINCIPAL' | 'ROLE_MISSING';

export type OperatorAuthOutcome =
  | { ok: true; principal: OperatorPrincipal }
  | { ok: false; code: 'AUTH_REQUIRED' | 'AUTH_FORBIDDEN'; reason: OperatorRefusalReason };

export interface OperatorAuthenticator {
  authorize(authorizationHeader: string | null | undefined): Promise<OperatorAuthOutcome>;
}

/** Bearer tokens are short; anything longer is refused before it is parsed. */
export const MAX_AUTHORIZATION_HEADER_CHARS = 16 * 1024;

export function createOperatorAuthenticator(policy: OperatorAuthPolicy, keys: TokenSigningKeys, clock: Clock): OperatorAuthenticator {
  if (policy.role.length === 0 || policy.audiences.length === 0 || policy.issuers.length === 0) throw new RangeError('operator auth policy needs a role, an audience and an issuer');
  const denied = (reason: OperatorRefusalReason): OperatorAuthOutcome => ({ ok: false, code: 'AUTH_REQUIRED', reason });
  return {
    async authorize(header) {
      if (!header) return denied('TOKEN_MISSING');
      const m = /^Bearer ([A-Za-z0-9._-]+)$/i.exec(header.trim());
      if (!m || header.length > MAX_AUTHORIZATION_HEADER_CHARS) return denied('TOKEN_SCHEME');
      const checked = await verifyAccessToken(m[1]!, keys, policy, clock.nowMs());
      if (!checked.ok) return denied(checked.reason);
      const { claims } = checked;
      if (claims.tid !== policy.tenantId) return denied('TOKEN_TENANT');
      if (typeof claims.oid !== 'string' || claims.oid.length === 0) return denied('TOKEN_PRINCIPAL');
      const roles = Array.isArray(claims.roles) ? claims.roles : [];
      if (!roles.includes(policy.role)) return { ok: false, code: 'AUTH_FORBIDDEN', reason: 'ROLE_MISSING' };
      const client = typeof claims.azp === 'string' ? claims.azp : typeof claims.appid === 'string' ? claims.appid : undefined;
      return { ok: true, principal: { objectId: claims.oid, ...(client ? { clientId: client } : {}) } };
    },
  };
}
