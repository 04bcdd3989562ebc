// GET /api/health: each dependency's state; 503 when any is down so load balancers and `npm start` can tell.
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { checkDependencies } from '../core/health/check-dependencies';
import type { RouteDef } from './route-def';
import { jsonResponse } from './http/json-response';
import { getServices } from './services';

export async function health(_req: HttpRequest, _ctx: InvocationContext): Promise<HttpResponseInit> {
  const services = await getServices();
  const report = await checkDependencies(services.healthProbes, { timeoutMs: services.config.healthTimeoutMs });
  return jsonResponse(report.status === 'ok' ? 200 : 503, report);
}

export const healthRoute: RouteDef = { name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: health };
