// HTTP routes of sandbox rollouts: start (POST rollouts), status and progress (GET rollouts/{instanceId}) and abort
// (POST rollouts/{instanceId}/abort). Thin: parse with one schema, call the OrchestrationClient, map the result.
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { isKarsError } from '../../core/errors';
import type { OrchestrationClient, OrchestrationStatus } from '../../core/ports/orchestration-client.port';
import { planRollout } from '../../core/rollouts/plan-rollout';
import type { RouteDef } from '../route-def';
import { errorResponse, jsonResponse } from '../http/json-response';
import { readJsonBody } from './read-json-body';
import { ROLLOUT_ABORT_EVENT, SANDBOX_ROLLOUT_ORCHESTRATOR } from './rollout-names';
import { MAX_ROLLOUT_REQUEST_BYTES, rolloutInstanceIdSchema, startRolloutSchema } from './rollout-schema';

export interface RolloutRouteDeps {
  /** Local mode: the local Durable runner; Azure mode: createDurableFunctionsClient(context). */
  getClient(context: InvocationContext): OrchestrationClient | Promise<OrchestrationClient>;
}

/** Public shape of a rollout's state (GET rollouts/{instanceId}). */
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

function fromError(e: unknown): HttpResponseInit {
  if (isKarsError(e)) return errorResponse(e.code, e.message);
  return errorResponse('INTERNAL', 'internal error');
}

function fieldPaths(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey> }>): string {
  // Field paths only, never the offending values (they can be anything a caller sent).
  return [...new Set(issues.map((i) => i.path.map(String).join('.') || '(body)'))].slice(0, 10).join(', ');
}

/** Reads a rollout's status; a different orchestration under that id is reported as not found. */
async function readRollout(client: OrchestrationClient, instanceId: string, showHistory: boolean): Promise<OrchestrationStatus | undefined> {
  const status = await client.getStatus(instanceId, { showHistory });
  return status.name === SANDBOX_ROLLOUT_ORCHESTRATOR ? status : undefined;
}

export function createRolloutRoutes(deps: RolloutRouteDeps): RouteDef[] {
  async function startRollout(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const body = await readJsonBody(req, { maxBytes: MAX_ROLLOUT_REQUEST_BYTES });
    if (!body.ok) {
      if (body.reason === 'too-large') return errorResponse('ROLLOUT_REQUEST_TOO_LARGE', `request body exceeds ${MAX_ROLLOUT_REQUEST_BYTES} bytes`);
      if (body.reason === 'content-type') return errorResponse('ROLLOUT_CONTENT_TYPE_UNSUPPORTED', 'content-type must be application/json');
      return errorResponse('INPUT_INVALID', 'request body is not valid JSON');
    }
    const parsed = startRolloutSchema.safeParse(body.value);
    if (!parsed.success) return errorResponse('INPUT_INVALID', `invalid fields: ${fieldPaths(parsed.error.issues)}`);
    const { instanceId, ...request } = parsed.data;
    const plan = planRollout(request);
    if (!plan.ok) return errorResponse(plan.code, plan.message);
    try {
      const client = await deps.getClient(context);
      const id = await client.startNew(SANDBOX_ROLLOUT_ORCHESTRATOR, { ...(instanceId ? { instanceId } : {}), input: request });
      const statusUri = `/api/rollouts/${encodeURIComponent(id)}`;
      return jsonResponse(
        202,
        { instanceId: id, statusUri, abortUri: `${statusUri}/abort`, batches: plan.value.batches.length, total: plan.value.total },
        { location: statusUri },
      );
    } catch (e) {
      return fromError(e);
    }
  }

  async function getRollout(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const id = rolloutInstanceIdSchema.safeParse(req.params.instanceId);
    if (!id.success) return errorResponse('INPUT_INVALID', 'invalid fields: instanceId');
    const history = req.query.get('history');
    const showHistory = history === 'true' || history === '1';
    try {
      const status = await readRollout(await deps.getClient(context), id.data, showHistory);
      if (!status) return errorResponse('ORCHESTRATION_NOT_FOUND', 'no rollout with that id');
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
      return fromError(e);
    }
  }

  async function abortRollout(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const id = rolloutInstanceIdSchema.safeParse(req.params.instanceId);
    if (!id.success) return errorResponse('INPUT_INVALID', 'invalid fields: instanceId');
    try {
      const client = await deps.getClient(context);
      const status = await readRollout(client, id.data, false);
      if (!status) return errorResponse('ORCHESTRATION_NOT_FOUND', 'no rollout with that id');
      await client.raiseEvent(id.data, ROLLOUT_ABORT_EVENT, { requestedAt: new Date().toISOString() });
      return jsonResponse(202, { instanceId: id.data, abortRequested: true, statusUri: `/api/rollouts/${encodeURIComponent(id.data)}` });
    } catch (e) {
      return fromError(e);
    }
  }

  // The Azure host needs the Durable client binding on every route that reaches orchestrations.
  const extraInputs = [df.input.durableClient()];
  return [
    { name: 'rolloutStart', methods: ['POST'], route: 'rollouts', authLevel: 'function', handler: startRollout, extraInputs },
    { name: 'rolloutStatus', methods: ['GET'], route: 'rollouts/{instanceId}', authLevel: 'function', handler: getRollout, extraInputs },
    { name: 'rolloutAbort', methods: ['POST'], route: 'rollouts/{instanceId}/abort', authLevel: 'function', handler: abortRollout, extraInputs },
  ];
}
