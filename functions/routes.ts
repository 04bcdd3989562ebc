// The single route table: functions/index.ts registers it with app.http, infra/local/host serves it locally.
import type { RouteDef } from './route-def';
import { healthRoute } from './health';
import { createRolloutRoutes } from './rollouts/rollout-routes';
import { createLazyHookRoutes } from './hooks/hook-routes';
import { buildHookRouteDeps } from './hooks/build-hook-route-deps';
import { loadEdgeSettings } from './hooks/edge-settings';
import { createChainReceiptSink } from '../core/audit/chain-receipt-sink';
import { getServices } from './services';

export const routes: readonly RouteDef[] = [
  healthRoute,
  ...createLazyHookRoutes(async () => {
    const s = await getServices();
    const [appender, limiter] = await Promise.all([s.receipts(), s.edgeLimiter()]);
    return buildHookRouteDeps(
      { mode: s.config.mode, documents: s.documents, secrets: s.secrets, bus: s.bus, receipts: createChainReceiptSink(appender), limiter, logger: s.logger },
      loadEdgeSettings(process.env, s.config.mode),
    );
  }),
  ...createRolloutRoutes({ getClient: async (context) => (await getServices()).orchestrationClient(context) }),
];
