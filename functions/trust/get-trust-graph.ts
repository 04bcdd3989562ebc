// GET /api/trust/graph?tenant=<id>&since=<version>[&limit=<n>&cursor=<c>] (operator route; routers read scores
// through /api/mesh/trust/*): the tenant's TrustGraph projection if newer than `since`, whole or a page at a time.
import type { HttpHandler } from '@azure/functions';
import { errorResponse, jsonResponse } from '../http/json-response';
import type { TrustRouteDeps } from './trust-route-deps';
import { routeErrorResponse } from '../http/route-error';
import { parseQuery, trustGraphQuerySchema } from './trust-query';
import { pageTrustGraph, TRUST_GRAPH_PAGE_DEFAULT } from '../../core/trust/page-trust-graph';

export function getTrustGraphHandler(getDeps: () => Promise<TrustRouteDeps>): HttpHandler {
  return async (req) => {
    const q = parseQuery(req, trustGraphQuerySchema);
    if (!q.ok) return errorResponse('INPUT_INVALID', q.message);
    const deps = await getDeps();
    try {
      const read = await deps.graphs.read(q.value.tenant, q.value.since ?? -1);
      const { limit, cursor } = q.value;
      // Without limit or cursor: the whole projection, as before.
      if (!read.changed || (limit === undefined && cursor === undefined)) return jsonResponse(200, read);
      return jsonResponse(200, pageTrustGraph(read.graph, limit ?? TRUST_GRAPH_PAGE_DEFAULT, cursor));
    } catch (e) {
      return routeErrorResponse(e, { route: 'trust/graph', logger: deps.logger });
    }
  };
}
