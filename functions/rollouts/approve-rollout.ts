// POST /api/rollouts/{instanceId}/approve (operator route): approves the batch a rollout is waiting for by raising the
// approve event. Body `{ "batch": n }` must name the batch the progress shows waiting (409 otherwise), so an approval
// given for one batch never starts a later one. The event is stored before the 202: an acknowledged approval survives
// a restart of the host. A repeat sent before the orchestrator took the first is accepted (202): Durable's client shows
// no raised-but-unconsumed event, and the orchestrator takes only an approval naming the batch it waits for
// (docs/local-durable.md).
import type { HttpHandler } from '@azure/functions';
import { errorResponse, jsonResponse } from '../http/json-response';
import { readJsonRequest } from '../http/read-json-request';
import { routeErrorResponse } from '../http/route-error';
import type { RolloutProgress } from '../../core/rollouts/rollout-ledger';
import { isTerminalRuntimeStatus } from '../../core/ports/orchestration-client.port';
import { readRollout, ROLLOUT_MESSAGES, type RolloutRouteDeps } from './rollout-deps';
import { ROLLOUT_APPROVE_EVENT, type RolloutApproval } from './rollout-names';
import { approveRolloutSchema, rolloutInstanceIdSchema } from './rollout-schema';

const MAX_APPROVE_BYTES = 1024;

export function approveRolloutHandler(deps: RolloutRouteDeps): HttpHandler {
  return async (req, context) => {
    const id = rolloutInstanceIdSchema.safeParse(req.params.instanceId);
    if (!id.success) return errorResponse('INPUT_INVALID', 'invalid fields: instanceId');
    const input = await readJsonRequest(req, approveRolloutSchema, MAX_APPROVE_BYTES);
    if (!input.ok) return input.response;
    try {
      const client = await deps.getClient(context);
      const status = await readRollout(client, id.data, false);
      if (!status) return errorResponse('ORCHESTRATION_NOT_FOUND', ROLLOUT_MESSAGES.ORCHESTRATION_NOT_FOUND!);
      const waiting = (status.customStatus as RolloutProgress | null | undefined)?.awaitingApproval;
      if (isTerminalRuntimeStatus(status.runtimeStatus) || waiting !== input.value.batch) {
        return errorResponse('ROLLOUT_NOT_AWAITING_APPROVAL', 'the rollout is not waiting for approval of that batch');
      }
      const approval: RolloutApproval = { batch: input.value.batch };
      await client.raiseEvent(id.data, ROLLOUT_APPROVE_EVENT, approval);
      return jsonResponse(202, { instanceId: id.data, approved: input.value.batch, statusUri: `/api/rollouts/${encodeURIComponent(id.data)}` });
    } catch (e) {
      return routeErrorResponse(e, { route: 'rollouts/{instanceId}/approve', messages: ROLLOUT_MESSAGES, logger: deps.logger });
    }
  };
}
