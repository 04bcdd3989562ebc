// What the rollout handlers need: the Durable client (the local runner, or the Durable extension's client in Azure)
// and where refusals are logged; plus the lookups the three handlers share.
import type { InvocationContext } from '@azure/functions';
import type { KarsErrorCode } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import type { OrchestrationClient, OrchestrationStatus } from '../../core/ports/orchestration-client.port';
import { SANDBOX_ROLLOUT_ORCHESTRATOR } from './rollout-names';

export interface RolloutRouteDeps {
  /** Local mode: the local Durable runner; Azure mode: createDurableFunctionsClient(context). */
  getClient(context: InvocationContext): OrchestrationClient | Promise<OrchestrationClient>;
  logger?: Logger;
}

/** Public texts of the orchestration codes the rollout routes answer with. */
export const ROLLOUT_MESSAGES: Partial<Record<KarsErrorCode, string>> = {
  ORCHESTRATION_NOT_FOUND: 'no rollout with that id',
  ORCHESTRATION_INSTANCE_EXISTS: 'a rollout with that id is running',
  ORCHESTRATION_NOT_RUNNING: 'the rollout is not running',
  ORCHESTRATION_FAILED: 'the orchestration failed',
};

/** Reads a rollout's status; a different orchestration under that id is reported as not found. */
export async function readRollout(client: OrchestrationClient, instanceId: string, showHistory: boolean): Promise<OrchestrationStatus | undefined> {
  const status = await client.getStatus(instanceId, { showHistory });
  return status.name === SANDBOX_ROLLOUT_ORCHESTRATOR ? status : undefined;
}
