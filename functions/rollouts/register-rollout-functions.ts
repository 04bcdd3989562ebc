// Registers the rollout orchestrator and activities once, for the Azure host (df.app) and the local runner (registry).
import { registerActivity, registerOrchestration, type RegisterDurableOptions } from '../../adapters/durable/durable-registry';
import { createRolloutActivities, type RolloutActivityDeps } from './rollout-activities';
import { APPLY_SANDBOX_REVISION_ACTIVITY, READ_SANDBOX_HEALTH_ACTIVITY, SANDBOX_ROLLOUT_ORCHESTRATOR } from './rollout-names';
import { sandboxRolloutOrchestrator } from './sandbox-rollout-orchestrator';

export function registerRolloutFunctions(deps: RolloutActivityDeps, options: RegisterDurableOptions = {}): void {
  const activities = createRolloutActivities(deps);
  registerOrchestration(SANDBOX_ROLLOUT_ORCHESTRATOR, sandboxRolloutOrchestrator, options);
  registerActivity(APPLY_SANDBOX_REVISION_ACTIVITY, activities.applySandboxRevision, options);
  registerActivity(READ_SANDBOX_HEALTH_ACTIVITY, activities.readSandboxHealth, options);
}
