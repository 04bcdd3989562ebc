// GET /api/trust/scores/{did}?tenant=<id>&observer=<sandbox> (operator route): one observer's effective
// trust in a DID now, with the paths that made it (`npx kars trust show`).
import type { HttpHandler } from '@azure/functions';
import { effectiveTrust } from '../../core/trust/transitive-trust';
import { isDid } from '../../core/trust/trust-update';
import { errorResponse, jsonResponse } from '../http/json-response';
import type { TrustRouteDeps } from './trust-route-deps';
import { routeErrorResponse } from '../http/route-error';
import { parseQuery, trustScoreQuerySchema } from './trust-query';

export function getTrustScoreHandler(getDeps: () => Promise<TrustRouteDeps>): HttpHandler {
  return async (req) => {
    const did = req.params.did;
    if (!isDid(did)) return errorResponse('INPUT_INVALID', 'invalid path parameter: did');
    const q = parseQuery(req, trustScoreQuerySchema);
    if (!q.ok) return errorResponse('INPUT_INVALID', q.message);
    const deps = await getDeps();
    try {
      const read = await deps.graphs.read(q.value.tenant, -1);
      if (!read.changed) throw new Error('a read since -1 always returns the graph');
      const trust = effectiveTrust(read.graph, q.value.observer, did, deps.clock.nowMs(), deps.policy);
      return jsonResponse(200, { tenantId: q.value.tenant, observer: q.value.observer, subject: did, version: read.graph.version, ...trust });
    } catch (e) {
      return routeErrorResponse(e, { route: 'trust/scores/{did}', logger: deps.logger });
    }
  };
}
