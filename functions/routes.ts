// The single route table: functions/index.ts registers it with app.http, infra/local/host serves it locally.
import type { RouteDef } from './route-def';
import { healthRoute } from './health';
import { createRolloutRoutes } from './rollouts/rollout-routes';
import { getServices } from './services';

export const routes: readonly RouteDef[] = [
  healthRoute,
  ...createRolloutRoutes({ getClient: async (context) => (await getServices()).orchestrationClient(context) }),
];
