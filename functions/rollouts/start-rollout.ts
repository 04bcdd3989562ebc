// POST /api/rollouts (authLevel function): plans a sandbox rollout and starts its orchestration; 202 with the status
// and abort URIs. Body: the one JSON reader (415, 413, 400) and startRolloutSchema (INPUT_INVALID naming fields).
import type { HttpHandler } from '@azure/functions';
import { planRollout } from '../../core/rollouts/plan-rollout';
import { errorResponse, jsonResponse } from '../http/json-response';
import { readJsonRequest } from '../http/read-json-request';
import { routeErrorResponse } from '../http/route-error';
import { ROLLOUT_MESSAGES, type RolloutRouteDeps } from './rollout-deps';
import { SANDBOX_ROLLOUT_ORCHESTRATOR } from './rollout-names';
import { MAX_ROLLOUT_REQUEST_BYTES, startRolloutSchema } from './rollout-schema';

export function startRolloutHandler(deps: RolloutRouteDeps): HttpHandler {
  return async (req, context) => {
    const input = await readJsonRequest(req, startRolloutSchema, MAX_ROLLOUT_REQUEST_BYTES);
    if (!input.ok) return input.response;
    const { instanceId, ...request } = input.value;
    // The plan's message is core's public verdict (field and rule, never the value).
    const plan = planRollout(request);
    if (!plan.ok) return errorResponse(plan.code, plan.message);
    try {
      const client = await deps.getClient(context);
      const id = await client.startNew(SANDBOX_ROLLOUT_ORCHESTRATOR, { ...(instanceId ? { instanceId } : {}), input: request });
      const statusUri = `/api/rollouts/${encodeURIComponent(id)}`;
      return jsonResponse(
        202,
        { instanceId: id, statusUri, approveUri: `${statusUri}/approve`, abortUri: `${statusUri}/abort`, batches: plan.value.batches.length, total: plan.value.total },
        { location: statusUri },
      );
    } catch (e) {
      return routeErrorResponse(e, { route: 'rollouts', messages: ROLLOUT_MESSAGES, logger: deps.logger });
    }
  };
}
