// The composition helper maps the edge settings and the deployment's instance count onto the pipeline's options: the
// pre-auth budgets become per-instance shares of the deployment-wide figure, and GitHub gets its own replay retention.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../adapters/memory/memory-bus';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { createMemoryReceiptSink } from '../../../adapters/memory/memory-edge-receipts';
import { createMemorySecretSource } from '../../../adapters/memory/memory-secrets';
import { createLocalEdgeLimiter } from '../../../adapters/edge/local-edge-limiter';
import { instanceShare } from '../../../core/edge/preauth-guard';
import { perSecond } from '../../../core/limits/token-bucket';
import type { Logger } from '../../../core/ports/logger.port';
import { buildHookRouteDeps, type HookServices } from '../../../functions/hooks/build-hook-route-deps';
import { loadEdgeSettings } from '../../../functions/hooks/edge-settings';
import { createHookRoutes } from '../../../functions/hooks/hook-routes';

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function services(maxInstances?: number): HookServices {
  const store = new MemoryDocumentStore();
  return {
    documents: async () => store,
    secrets: createMemorySecretSource(),
    bus: createMemoryBus(),
    receipts: createMemoryReceiptSink(),
    limiter: createLocalEdgeLimiter(),
    logger: silent,
    ...(maxInstances !== undefined ? { maxInstances } : {}),
  };
}

const env = {
  KARS_EDGE_PREAUTH_HOOK_RPS: '12', KARS_EDGE_PREAUTH_HOOK_BURST: '300', KARS_EDGE_PREAUTH_GLOBAL_RPS: '90', KARS_EDGE_PREAUTH_GLOBAL_BURST: '900',
  KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC: String(10 * 86_400), KARS_EDGE_UNTIMED_REPLAY_RETENTION_SEC: String(2 * 86_400),
};

describe('buildHookRouteDeps', () => {
  it('divides the deployment-wide pre-auth budgets by the maximum instance count', async () => {
    const deps = await buildHookRouteDeps(services(3), loadEdgeSettings(env, 'local'));
    const { pipeline } = createHookRoutes(deps);
    expect(pipeline.options.preAuthGuard.instances).toBe(3);
    expect(pipeline.options.preAuthGuard.perHook).toEqual(instanceShare(perSecond(12, 300), 3));
    expect(pipeline.options.preAuthGuard.global).toEqual(instanceShare(perSecond(90, 900), 3));
    expect(pipeline.options.preAuthGuard.global.capacity).toBe(300);
  });

  it('without an instance count the budgets are the process\'s own (one instance)', async () => {
    const { pipeline } = createHookRoutes(await buildHookRouteDeps(services(), loadEdgeSettings(env, 'local')));
    expect(pipeline.options.preAuthGuard.instances).toBe(1);
    expect(pipeline.options.preAuthGuard.perHook).toEqual(perSecond(12, 300));
  });

  it('gives GitHub its own replay retention; the other untimed channels keep the general one', async () => {
    const { pipeline } = createHookRoutes(await buildHookRouteDeps(services(), loadEdgeSettings(env, 'local')));
    expect(pipeline.options.untimedReplayRetentionSecByChannel).toEqual({ standard: 172_800, github: 864_000, slack: 172_800, teams: 172_800 });
    const defaults = createHookRoutes(await buildHookRouteDeps(services(), loadEdgeSettings({}, 'local'))).pipeline;
    expect(defaults.options.untimedReplayRetentionSecByChannel.github).toBe(8 * 86_400);
    expect(defaults.options.untimedReplayRetentionSecByChannel.teams).toBe(72 * 3600);
  });
});
