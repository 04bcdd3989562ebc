// The single route table: functions/index.ts registers it with app.http, infra/local/host serves it locally.
import type { RouteDef } from './route-def';
import { healthRoute } from './health';

export const routes: readonly RouteDef[] = [healthRoute];
