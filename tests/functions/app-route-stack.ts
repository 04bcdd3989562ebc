// The app's route table (functions/routes.ts buildAppRoutes, route guard included) served by the REAL local Functions
// host over HTTP, with in-memory edge dependencies and an in-memory orchestration client: enough for handlers to
// answer, so a test can tell a request the guard refused from one that reached its handler.
import { randomBytes } from 'node:crypto';
import { createDocumentHookRegistry } from '../../adapters/edge/document-hook-registry';
import { createDocumentReplayGuard } from '../../adapters/edge/document-replay-guard';
import { createLocalEdgeLimiter } from '../../adapters/edge/local-edge-limiter';
import { captureLogs } from '../support/log-sink';
import { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import { createMemoryEdgeQueue } from '../../adapters/memory/memory-edge-queue';
import { createMemoryReceiptSink } from '../../adapters/memory/memory-edge-receipts';
import { createMemorySecretSource } from '../../adapters/memory/memory-secrets';
import type { EdgePipelineOptions } from '../../core/edge/edge-types';
import { KarsError } from '../../core/errors';
import { systemClock } from '../../core/ports/clock.port';
import type { OrchestrationClient } from '../../core/ports/orchestration-client.port';
import { createAppHooks } from '../../functions/app-hooks';
import type { RouteGuardOptions } from '../../functions/http/guard-routes';
import type { RouteDef } from '../../functions/route-def';
import { buildAppRoutes } from '../../functions/routes';
import { startLocalHost, type LocalHost } from '../../infra/local/host/local-host';

export interface AppRouteStackOptions {
  guard: Omit<RouteGuardOptions, 'logger'>;
  pipelineOptions?: EdgePipelineOptions;
}

export interface AppRouteStack {
  url: string;
  masterKey: string;
  table: readonly RouteDef[];
  /** Every log line of the host, the guard and the pipeline. */
  logs: string[];
  close(): Promise<void>;
}

/** Knows no instance: every status read is ORCHESTRATION_NOT_FOUND, a start returns the requested id. */
const emptyOrchestrations: OrchestrationClient = {
  startNew: async (_name: string, options?: { instanceId?: string }) => options?.instanceId ?? 'instance-1',
  getStatus: async () => { throw new KarsError('ORCHESTRATION_NOT_FOUND', 'no such instance'); },
  raiseEvent: async () => undefined,
  terminate: async () => undefined,
} as unknown as OrchestrationClient;

export async function startAppRouteStack(options: AppRouteStackOptions): Promise<AppRouteStack> {
  const logs: string[] = [];
  const sink = captureLogs({ into: logs, component: 'app-route-stack', ...(options.pipelineOptions?._disable ? { disabled: options.pipelineOptions._disable } : {}) });
  const logger = sink.logger;
  const store = new MemoryDocumentStore({ clock: systemClock });
  const secrets = createMemorySecretSource();
  const hooks = createAppHooks();
  const table = buildAppRoutes({
    health: async () => ({ probes: [], timeoutMs: 1000 }),
    hookDeps: async () => ({
      registry: createDocumentHookRegistry(store, secrets, { clock: systemClock }),
      replayGuard: createDocumentReplayGuard(store),
      limiter: createLocalEdgeLimiter({ clock: systemClock }),
      queue: createMemoryEdgeQueue(),
      receipts: createMemoryReceiptSink(),
      clock: systemClock,
      logger,
      ...(options.pipelineOptions ? { pipelineOptions: options.pipelineOptions } : {}),
    }),
    rolloutClient: () => emptyOrchestrations,
  }, hooks, { ...options.guard, logger });
  const masterKey = randomBytes(24).toString('base64url');
  const host: LocalHost = await startLocalHost({
    routes: table, keys: { masterKey, functionKey: randomBytes(24).toString('base64url') }, logger, port: 0, hooks, shutdownGraceMs: 500,
  });
  return { url: host.url, masterKey, table, logs, close: () => host.close() };
}

/** A concrete path for a route template (`hooks/{channel}/{hookId}` → `/api/hooks/standard/h_…`). */
export function samplePath(route: string): string {
  const values: Record<string, string> = { channel: 'standard', hookId: 'h_0123456789abcdef', instanceId: 'rollout-1' };
  return '/api/' + route.replace(/\{(\w+)(?::\w+)?\??\}/g, (_m, name: string) => values[name] ?? 'x1');
}
