// GET /api/trust/graph?tenant=<id>&since=<version> (operator route; routers get their own authenticated
// read when they swap the projection in, RR2): the tenant's TrustGraph projection if newer than `since`.
import type { HttpHandler } from '@azure/functions';
import { errorResponse, jsonResponse } from '../http/json-response';
import type { TrustRouteDeps } from './trust-route-deps';
import { routeErrorResponse } from '../http/route-error';
import { parseQuery, trustGraphQuerySchema } from './trust-query';

export function getTrustGraphHandler(getDeps: () => Promise<TrustRouteDeps>): HttpHandler {
  return async (req) => {
    const q = parseQuery(req, trustGraphQuerySchema);
    if (!q.ok) return errorResponse('INPUT_INVALID', q.message);
    const deps = await getDeps();
    try {
      return jsonResponse(200, await deps.graphs.read(q.value.tenant, q.value.since ?? -1));
    } catch (e) {
      return routeErrorResponse(e, { route: 'trust/graph', logger: deps.logger });
    }
  };
}
