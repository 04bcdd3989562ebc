// Durable function and event names of the sandbox rollout: one place, shared by registration, the orchestrator,
// the HTTP routes and the CLI.
export const SANDBOX_ROLLOUT_ORCHESTRATOR = 'sandboxRollout';
export const APPLY_SANDBOX_REVISION_ACTIVITY = 'applySandboxRevision';
export const READ_SANDBOX_HEALTH_ACTIVITY = 'readSandboxHealth';
/** Raised by `POST /api/rollouts/{instanceId}/abort`: the rollout halts and rolls back what it applied. */
export const ROLLOUT_ABORT_EVENT = 'RolloutAbort';
/** Raised by `POST /api/rollouts/{instanceId}/approve`: the batch waiting for approval may start. */
export const ROLLOUT_APPROVE_EVENT = 'RolloutApprove';

/** The approve event's data: which batch (1-based) the operator approved. */
export interface RolloutApproval {
  batch: number;
}
