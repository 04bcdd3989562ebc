// The single table of Service Bus queue triggers: functions/index.ts registers it with app.serviceBusQueue, and the
// local host drives the same handlers from the local broker (infra/local/host/queue-driver.ts).
import type { QueueTriggerDef } from './queue-trigger-def';
import { createTrustApplyTrigger } from './trust/apply-trust-trigger';
import { getTrustDeps } from './trust/get-trust-deps';

export const queueTriggers: readonly QueueTriggerDef[] = [createTrustApplyTrigger(getTrustDeps)];
