// GET /api/rollouts/{instanceId}[?history=true] (authLevel function): a rollout's runtime status, progress and result.
import type { HttpHandler } from '@azure/functions';
import type { OrchestrationStatus } from '../../core/ports/orchestration-client.port';
import { errorResponse, jsonResponse } from '../http/json-response';
import { routeErrorResponse } from '../http/route-error';
import { readRollout, ROLLOUT_MESSAGES, type RolloutRouteDeps } from './rollout-deps';
import { rolloutInstanceIdSchema } from './rollout-schema';

/** Public shape of a rollout's state. */
export interface RolloutStatusBody {
  instanceId: string;
  runtimeStatus: OrchestrationStatus['runtimeStatus'];
  /** The orchestrator's progress (RolloutProgress) or null before its first step. */
  progress: unknown;
  /** RolloutResult once Completed; the failure message once Failed; the reason once Terminated. */
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  history?: OrchestrationStatus['history'];
}

export function getRolloutHandler(deps: RolloutRouteDeps): HttpHandler {
  return async (req, context) => {
    const id = rolloutInstanceIdSchema.safeParse(req.params.instanceId);
    if (!id.success) return errorResponse('INPUT_INVALID', 'invalid fields: instanceId');
    const history = req.query.get('history');
    const showHistory = history === 'true' || history === '1';
    try {
      const status = await readRollout(await deps.getClient(context), id.data, showHistory);
      if (!status) return errorResponse('ORCHESTRATION_NOT_FOUND', ROLLOUT_MESSAGES.ORCHESTRATION_NOT_FOUND!);
      const out: RolloutStatusBody = {
        instanceId: status.instanceId,
        runtimeStatus: status.runtimeStatus,
        progress: status.customStatus ?? null,
        output: status.output ?? null,
        createdTime: status.createdTime,
        lastUpdatedTime: status.lastUpdatedTime,
      };
      if (showHistory) out.history = status.history ?? [];
      return jsonResponse(200, out);
    } catch (e) {
      return routeErrorResponse(e, { route: 'rollouts/{instanceId}', messages: ROLLOUT_MESSAGES, logger: deps.logger });
    }
  };
}
