// POST /api/rollouts/{instanceId}/abort (authLevel function): raises the abort event; the orchestrator rolls back.
import type { HttpHandler } from '@azure/functions';
import { errorResponse, jsonResponse } from '../http/json-response';
import { routeErrorResponse } from '../http/route-error';
import { readRollout, ROLLOUT_MESSAGES, type RolloutRouteDeps } from './rollout-deps';
import { ROLLOUT_ABORT_EVENT } from './rollout-names';
import { rolloutInstanceIdSchema } from './rollout-schema';

export function abortRolloutHandler(deps: RolloutRouteDeps): HttpHandler {
  return async (req, context) => {
    const id = rolloutInstanceIdSchema.safeParse(req.params.instanceId);
    if (!id.success) return errorResponse('INPUT_INVALID', 'invalid fields: instanceId');
    try {
      const client = await deps.getClient(context);
      const status = await readRollout(client, id.data, false);
      if (!status) return errorResponse('ORCHESTRATION_NOT_FOUND', ROLLOUT_MESSAGES.ORCHESTRATION_NOT_FOUND!);
      await client.raiseEvent(id.data, ROLLOUT_ABORT_EVENT, { requestedAt: new Date().toISOString() });
      return jsonResponse(202, { instanceId: id.data, abortRequested: true, statusUri: `/api/rollouts/${encodeURIComponent(id.data)}` });
    } catch (e) {
      return routeErrorResponse(e, { route: 'rollouts/{instanceId}/abort', messages: ROLLOUT_MESSAGES, logger: deps.logger });
    }
  };
}
