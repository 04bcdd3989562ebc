// The routers' own reads of the live trust plane (RR2): the score of a peer DID as the calling sandbox sees it, and the
// tenant's projection version, which a router polls to drop cached scores as soon as an update is applied. Routers
// authenticate with their projected service-account token (header `x-kars-router-token`, as on the mesh routes);
// the observer is always the sandbox the token names, never a parameter. Under `mesh/`, so App Service Authentication
// leaves them to that check (bicep/modules/function-app.bicep excludedPaths).
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { ENTITY_ID_RE } from '../../core/edge/edge-ids';
import type { RouterAuthenticator, RouterCaller } from '../../core/ports/router-authenticator.port';
import { effectiveTrust } from '../../core/trust/transitive-trust';
import { isDid } from '../../core/trust/trust-update';
import { errorResponse, jsonResponse } from '../http/json-response';
import { routeErrorResponse } from '../http/route-error';
import type { RouteDef } from '../route-def';
import { ROUTER_TOKEN_HEADER } from '../../core/mesh/router-auth/verify-router-token';
import { parseQuery } from './trust-query';
import type { TrustRouteDeps } from './trust-route-deps';

export const ROUTER_TRUST_SCORE_ROUTE = 'mesh/trust/scores/{did}';
export const ROUTER_TRUST_VERSION_ROUTE = 'mesh/trust/version';

const tenantQuerySchema = z.strictObject({ tenant: z.string().regex(ENTITY_ID_RE) });
/**
 * Every router of a tenant polls its version a few times a second; within one instance they share a read for this
 * long, so Cosmos reads per tenant stay bounded whatever the number of routers (at the cost of this much propagation).
 */
export const VERSION_READ_SHARE_MS = 100;

type Handler = (req: HttpRequest, caller: RouterCaller, deps: TrustRouteDeps, tenant: string) => Promise<HttpResponseInit>;

export function createRouterTrustRoutes(
  getDeps: () => Promise<TrustRouteDeps>, getAuthenticator: () => Promise<RouterAuthenticator>,
): RouteDef[] {
  const authed = (route: string, handle: Handler): HttpHandler => async (req) => {
    let deps: TrustRouteDeps | undefined;
    try {
      const authenticator = await getAuthenticator();
      const auth = await authenticator.authenticate(req.headers.get(ROUTER_TOKEN_HEADER) ?? undefined);
      deps = await getDeps();
      if (!auth.ok) {
        deps.logger.warn('trust.router_auth_refused', { route, reason: auth.code });
        return auth.code === 'keys-unavailable'
          ? errorResponse('IDENTITY_UNAVAILABLE', 'identity provider unavailable')
          : errorResponse('AUTH_REQUIRED', 'authentication required');
      }
      const q = parseQuery(req, tenantQuerySchema);
      if (!q.ok) return errorResponse('INPUT_INVALID', q.message);
      return await handle(req, auth.value, deps, q.value.tenant);
    } catch (e) {
      return routeErrorResponse(e, { route, logger: deps?.logger });
    }
  };

  const versionReads = new Map<string, { atMs: number; read: Promise<number> }>();
  const versionOf = (deps: TrustRouteDeps, tenant: string): Promise<number> => {
    const nowMs = deps.clock.nowMs();
    const shared = versionReads.get(tenant);
    if (shared && nowMs - shared.atMs < VERSION_READ_SHARE_MS) return shared.read;
    const read = deps.graphs.read(tenant, Number.MAX_SAFE_INTEGER).then((r) => (r.changed ? r.graph.version : r.version));
    if (versionReads.size > 10_000) versionReads.clear(); // many tenants: forget, never grow without bound
    versionReads.set(tenant, { atMs: nowMs, read });
    read.catch(() => { if (versionReads.get(tenant)?.read === read) versionReads.delete(tenant); });
    return read;
  };

  return [
    {
      name: 'routerTrustScore', methods: ['GET'], route: ROUTER_TRUST_SCORE_ROUTE, authLevel: 'anonymous',
      handler: authed(ROUTER_TRUST_SCORE_ROUTE, async (req, caller, deps, tenant) => {
        const did = req.params.did;
        if (!isDid(did)) return errorResponse('INPUT_INVALID', 'invalid path parameter: did');
        const read = await deps.graphs.read(tenant, -1);
        if (!read.changed) throw new Error('a read since -1 always returns the graph');
        const trust = effectiveTrust(read.graph, caller.sandboxId, did, deps.clock.nowMs(), deps.policy);
        // Score and version only: the paths (who trusts whom) are the operator's to read.
        return jsonResponse(200, { subject: did, observer: caller.sandboxId, version: read.graph.version, score: trust.score, source: trust.source });
      }),
    },
    {
      name: 'routerTrustVersion', methods: ['GET'], route: ROUTER_TRUST_VERSION_ROUTE, authLevel: 'anonymous',
      handler: authed(ROUTER_TRUST_VERSION_ROUTE, async (_req, _caller, deps, tenant) => {
        return jsonResponse(200, { version: await versionOf(deps, tenant) });
      }),
    },
  ];
}
