// The trust plane's routes for the single route table (T4-E, RR2). All four are operator routes (authLevel admin, as
// /api/manage/*), so the table's guard (functions/http/guard-routes.ts) requires the Entra operator role in Azure.
import type { HttpHandler } from '@azure/functions';
import { routeErrorResponse } from '../http/route-error';
import type { RouteDef } from '../route-def';
import { getTrustGraphHandler } from './get-trust-graph';
import { getTrustScoreHandler } from './get-trust-score';
import { postTrustUpdatesHandler } from './post-trust-updates';
import { putTrustIssuersHandler } from './put-trust-issuers';
import type { TrustRouteDeps } from './trust-route-deps';

/** A failure before a handler has its dependencies (their build failed) answers like any route error: code only. */
function answeringErrors(route: string, handler: HttpHandler): HttpHandler {
  return async (req, context) => {
    try {
      return await handler(req, context);
    } catch (e) {
      return routeErrorResponse(e, { route });
    }
  };
}

export function createTrustRoutes(getDeps: () => Promise<TrustRouteDeps>): RouteDef[] {
  return [
    { name: 'trustUpdates', methods: ['POST'], route: 'trust/updates', authLevel: 'admin', handler: answeringErrors('trust/updates', postTrustUpdatesHandler(getDeps)) },
    { name: 'trustGraph', methods: ['GET'], route: 'trust/graph', authLevel: 'admin', handler: answeringErrors('trust/graph', getTrustGraphHandler(getDeps)) },
    { name: 'trustScore', methods: ['GET'], route: 'trust/scores/{did}', authLevel: 'admin', handler: answeringErrors('trust/scores/{did}', getTrustScoreHandler(getDeps)) },
    { name: 'trustIssuersPut', methods: ['PUT'], route: 'manage/trust/issuers/{tenantId}', authLevel: 'admin', handler: answeringErrors('manage/trust/issuers/{tenantId}', putTrustIssuersHandler(getDeps)) },
  ];
}
