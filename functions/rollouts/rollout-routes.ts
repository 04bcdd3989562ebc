// HTTP routes of sandbox rollouts for the single route table: start (POST rollouts), status and progress
// (GET rollouts/{instanceId}), approve of a gated batch (POST rollouts/{instanceId}/approve) and abort
// (POST rollouts/{instanceId}/abort); one handler factory per file.
import * as df from 'durable-functions';
import type { RouteDef } from '../route-def';
import { abortRolloutHandler } from './abort-rollout';
import { approveRolloutHandler } from './approve-rollout';
import { getRolloutHandler } from './get-rollout';
import type { RolloutRouteDeps } from './rollout-deps';
import { startRolloutHandler } from './start-rollout';

export function createRolloutRoutes(deps: RolloutRouteDeps): RouteDef[] {
  // The Azure host needs the Durable client binding on every route that reaches orchestrations.
  const extraInputs = [df.input.durableClient()];
  return [
    { name: 'rolloutStart', methods: ['POST'], route: 'rollouts', authLevel: 'function', handler: startRolloutHandler(deps), extraInputs },
    { name: 'rolloutStatus', methods: ['GET'], route: 'rollouts/{instanceId}', authLevel: 'function', handler: getRolloutHandler(deps), extraInputs },
    { name: 'rolloutApprove', methods: ['POST'], route: 'rollouts/{instanceId}/approve', authLevel: 'function', handler: approveRolloutHandler(deps), extraInputs },
    { name: 'rolloutAbort', methods: ['POST'], route: 'rollouts/{instanceId}/abort', authLevel: 'function', handler: abortRolloutHandler(deps), extraInputs },
  ];
}
