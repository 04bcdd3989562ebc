// Controls every route of the table gets whatever host serves it (the Azure Functions host or infra/local/host):
// a credential in the query string is refused (T1-I), and an operator route (authLevel function/admin: /api/manage/*,
// /api/rollouts*, and any later one) admits only an Entra principal holding the operator app role (T1-E). In Azure,
// App Service Authentication stands in front as well; the app does not rely on it.
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { OperatorAuthenticator } from '../../core/auth/authorize-operator';
import { isKarsError } from '../../core/errors';
import { refuseQueryCredentialUrl } from '../../core/http/refuse-query-credentials';
import type { Logger } from '../../core/ports/logger.port';
import type { RouteDef } from '../route-def';
import { errorResponse } from './json-response';
import { loadOperatorAuthSettings } from './operator-auth-settings';

export type RouteMitigation = 'query-credentials' | 'operator-auth';

export interface RouteGuardOptions {
  /** The operator authenticator; undefined = local mode without Entra settings (the local host's key check only). */
  operatorAuthenticator(): OperatorAuthenticator | undefined | Promise<OperatorAuthenticator | undefined>;
  logger: Logger;
  /** Tests only: switch a control off to show the attack it stops. No configuration reaches this. */
  readonly _disable?: readonly RouteMitigation[];
}

/** Operator routes are the ones a caller must be authorized for; the webhook edge and health are anonymous. */
export function isOperatorRoute(route: Pick<RouteDef, 'authLevel'>): boolean {
  return route.authLevel !== 'anonymous';
}

/**
 * The auth level to register with the Azure Functions host: operator routes are anonymous there, because App Service
 * Authentication and the app's role check replace the host key (which any resource-group Contributor can list and the
 * host also reads from `?code=`). The local host keeps the route's own level: its key stands in locally.
 * Without Entra operator settings in local mode (`func start` with KARS_MODE=local, or that setting by mistake in
 * Azure) the guard has no role to check, so the host key stays: an operator route is never left open by a setting.
 */
export function azureHostAuthLevel(route: Pick<RouteDef, 'authLevel'>, entraOperatorAuth: boolean): RouteDef['authLevel'] {
  return isOperatorRoute(route) && entraOperatorAuth ? 'anonymous' : route.authLevel;
}

/**
 * Whether the app checks operators itself (Entra settings present). Settings that do not parse count as present: the
 * guard then answers CONFIG_INVALID on every operator route (fail closed) rather than the host failing at load.
 */
export function entraOperatorAuthConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  try {
    return loadOperatorAuthSettings(env) !== undefined;
  } catch {
    return true;
  }
}

export function guardRoutes(routes: readonly RouteDef[], options: RouteGuardOptions): RouteDef[] {
  const disabled = new Set(options._disable ?? []);
  let authenticator: Promise<OperatorAuthenticator | undefined> | undefined;
  const loadAuthenticator = (): Promise<OperatorAuthenticator | undefined> => {
    const pending = (authenticator ??= Promise.resolve().then(() => options.operatorAuthenticator()));
    // A failed build (bad settings) is retried on the next request rather than cached.
    pending.catch(() => { if (authenticator === pending) authenticator = undefined; });
    return pending;
  };
  return routes.map((route) => {
    const operator = isOperatorRoute(route);
    const handler: HttpHandler = async (req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
      if (!disabled.has('query-credentials') && !route.refusesQueryCredentials) {
        const refusal = refuseQueryCredentialUrl(req.url);
        if (refusal) {
          options.logger.warn('http.refused', { route: route.name, code: refusal.code });
          return errorResponse(refusal.code, refusal.message);
        }
      }
      if (operator && !disabled.has('operator-auth')) {
        const refused = await authorizeOperator(req, route.name);
        if (refused) return refused;
      }
      return route.handler(req, context);
    };
    return { ...route, handler };
  });

  async function authorizeOperator(req: HttpRequest, name: string): Promise<HttpResponseInit | undefined> {
    let auth: OperatorAuthenticator | undefined;
    try {
      auth = await loadAuthenticator();
    } catch (e) {
      const code = isKarsError(e) ? e.code : 'INTERNAL';
      options.logger.error('http.operator_auth_unconfigured', { route: name, code });
      return errorResponse('CONFIG_INVALID', 'operator authorization is not configured');
    }
    if (!auth) return undefined;
    let outcome;
    try {
      outcome = await auth.authorize(req.headers.get('authorization'));
    } catch {
      // The signing keys could not be fetched: fail closed, and say so without detail.
      options.logger.error('http.operator_auth_unavailable', { route: name, code: 'IDENTITY_UNAVAILABLE' });
      return errorResponse('IDENTITY_UNAVAILABLE', 'identity provider unavailable', { 'retry-after': '5' });
    }
    if (outcome.ok) {
      options.logger.info('http.operator', { route: name, principal: outcome.principal.objectId });
      return undefined;
    }
    // The reason is for the operator's log; the caller learns only 401 or 403 (RFC 6750 §3.1).
    options.logger.warn('http.operator_refused', { route: name, code: outcome.code, reason: outcome.reason });
    return outcome.code === 'AUTH_FORBIDDEN'
      ? errorResponse('AUTH_FORBIDDEN', 'the operator role is required', { 'www-authenticate': 'Bearer error="insufficient_scope"' })
      : errorResponse('AUTH_REQUIRED', 'an Entra ID bearer token is required', { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
}
