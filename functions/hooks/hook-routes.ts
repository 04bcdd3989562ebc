// The hook routes for the single route table: the anonymous webhook edge and the admin-key hook management API.
// Route templates avoid the `admin` prefix, which the Functions host reserves for its own API
// (Azure/azure-functions-host#1781: routes and function names starting with "admin" are refused).
import type { RouteDef } from '../route-def';
import { memoizePromise } from '../../core/async/memoize-promise';
import { createEdgePipeline, type EdgePipeline } from '../../core/edge/run-edge-pipeline';
import type { EdgePipelineDeps, EdgePipelineOptions } from '../../core/edge/edge-types';
import { createHookHandler } from './create-hook';
import { getHookHandler } from './get-hook';
import { receiveWebhookHandler } from './receive-webhook';
import { rotateHookHandler } from './rotate-hook';

export interface HookRouteDeps extends EdgePipelineDeps {
  /** Pipeline options from configuration (`loadEdgeSettings`); `_disable` is for tests only. */
  readonly pipelineOptions?: EdgePipelineOptions;
}

export interface HookRoutes {
  readonly routes: RouteDef[];
  readonly pipeline: EdgePipeline;
}

/**
 * @returns the four hook routes (and the pipeline, for shutdown, health and benchmarks)
 * @throws {RangeError|TypeError} for invalid pipeline options
 */
export function createHookRoutes(deps: HookRouteDeps): HookRoutes {
  const pipeline = createEdgePipeline(deps, deps.pipelineOptions);
  const admin = { registry: deps.registry, logger: deps.logger };
  return {
    pipeline,
    routes: [
      { name: 'hooksReceive', methods: ['POST'], route: 'hooks/{channel}/{hookId}', authLevel: 'anonymous', handler: receiveWebhookHandler(pipeline), refusesQueryCredentials: true },
      { name: 'hooksCreate', methods: ['POST'], route: 'manage/hooks', authLevel: 'admin', handler: createHookHandler(admin) },
      { name: 'hooksGet', methods: ['GET'], route: 'manage/hooks/{hookId}', authLevel: 'admin', handler: getHookHandler(admin) },
      { name: 'hooksRotate', methods: ['POST'], route: 'manage/hooks/{hookId}/rotate', authLevel: 'admin', handler: rotateHookHandler(admin) },
    ],
  };
}

export interface LazyHookRoutes {
  readonly routes: RouteDef[];
  /**
   * Writes the pipeline's pending pre-auth summary receipts, if the pipeline was built (before its first request there
   * is nothing to write). Never rejects. The route table registers it as a terminate hook (functions/app-hooks.ts).
   */
  flushRefusalSummaries(): Promise<void>;
}

/**
 * The same routes for a static route table whose dependencies are built later (after config and adapters): the
 * pipeline is created on the first request and reused; a failed build is retried by the next request.
 */
export function createLazyHookRoutes(getDeps: () => Promise<HookRouteDeps>): LazyHookRoutes {
  const built = memoizePromise(() => getDeps().then(createHookRoutes));
  const template = createHookRoutes(PLACEHOLDER_DEPS).routes;
  return {
    routes: template.map((route) => ({
      ...route,
      handler: async (req, context) => {
        const real = (await built()).routes.find((r) => r.name === route.name)!;
        return real.handler(req, context);
      },
    })),
    flushRefusalSummaries: async () => built.peek()?.pipeline.flushRefusalSummaries(),
  };
}

// Only used to read route names, methods and templates; never handles a request.
const never = (): never => {
  throw new Error('placeholder dependency called');
};
const PLACEHOLDER_DEPS: HookRouteDeps = {
  registry: { lookup: never, get: never, create: never, rotate: never },
  replayGuard: { claim: never },
  limiter: { admit: never },
  queue: { enqueue: never },
  receipts: { append: never },
  clock: { nowMs: () => 0 },
  logger: { info: never, warn: never, error: never },
};
