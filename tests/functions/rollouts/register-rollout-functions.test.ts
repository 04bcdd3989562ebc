// One registration call feeds both the Functions host (df.app, in test mode here) and the local runner's registry,
// and may run again (tests, hot reload) without a second host registration.
import { describe, expect, it } from 'vitest';
import { DurableRegistry } from '../../../adapters/durable/durable-registry';
import { MemorySandboxDriver } from '../../../adapters/memory/memory-sandbox-driver';
import { registerRolloutFunctions } from '../../../functions/rollouts/register-rollout-functions';
import { APPLY_SANDBOX_REVISION_ACTIVITY, READ_SANDBOX_HEALTH_ACTIVITY, SANDBOX_ROLLOUT_ORCHESTRATOR } from '../../../functions/rollouts/rollout-names';
import { sandboxRolloutOrchestrator } from '../../../functions/rollouts/sandbox-rollout-orchestrator';
import { InvocationContext } from '@azure/functions';

describe('registerRolloutFunctions', () => {
  it('records the orchestrator and both activities for the local runner, also when the host registration already ran', async () => {
    const driver = new MemorySandboxDriver({ sandboxes: [{ sandboxId: 'a', revision: { id: 'v1', spec: {} } }] });
    for (let i = 0; i < 2; i++) {
      const registry = new DurableRegistry();
      registerRolloutFunctions({ getSandboxDriver: () => driver }, { registry });
      expect(registry.orchestrationNames()).toEqual([SANDBOX_ROLLOUT_ORCHESTRATOR]);
      expect(registry.activityNames().sort()).toEqual([APPLY_SANDBOX_REVISION_ACTIVITY, READ_SANDBOX_HEALTH_ACTIVITY].sort());
      expect(registry.getOrchestration(SANDBOX_ROLLOUT_ORCHESTRATOR)).toBe(sandboxRolloutOrchestrator);
      const ctx = new InvocationContext({ logHandler: () => undefined });
      const apply = registry.getActivity(APPLY_SANDBOX_REVISION_ACTIVITY)!;
      expect(await apply({ sandboxId: 'a', revision: { id: `v${i + 2}`, spec: {} } }, ctx)).toEqual({ ok: true, previous: { id: `v${i + 1}`, spec: {} } });
      expect(await apply({ sandboxId: 'nope', revision: { id: 'v9', spec: {} } }, ctx)).toEqual({ ok: false, code: 'SANDBOX_NOT_FOUND', retryable: false });
      expect(await apply({ nonsense: true }, ctx)).toEqual({ ok: false, code: 'INPUT_INVALID', retryable: false });
      const read = registry.getActivity(READ_SANDBOX_HEALTH_ACTIVITY)!;
      expect(await read({ sandboxId: 'a' }, ctx)).toEqual({ ok: true, report: { sandboxId: 'a', revisionId: `v${i + 2}`, status: 'healthy' } });
    }
  });
});
