// GET /api/health: each dependency's state; 503 when any is down so load balancers and `npm start` can tell.
import type { HttpHandler } from '@azure/functions';
import { checkDependencies } from '../core/health/check-dependencies';
import type { HealthProbe } from '../core/ports/health-probe.port';
import { jsonResponse } from './http/json-response';

export interface HealthDeps {
  /** The probes and their deadline, from the process's services (built on first use). */
  probes(): Promise<{ probes: HealthProbe[]; timeoutMs: number }>;
}

export function healthHandler(deps: HealthDeps): HttpHandler {
  return async () => {
    const { probes, timeoutMs } = await deps.probes();
    const report = await checkDependencies(probes, { timeoutMs });
    return jsonResponse(report.status === 'ok' ? 200 : 503, report);
  };
}
