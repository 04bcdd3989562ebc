// The hook routes for the single route table: the anonymous webhook edge and the admin-key hook management API.
// Route templates avoid the `admin` prefix, which the Functions host reserves for its own API
// (Azure/azure-functions-host#1781: routes and function names starting with "admin" are refused).
import type { RouteDef } from '../route-def';
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
 * @returns the four hook routes (and the pipeline, for health and benchmarks)
 * @throws {RangeError|TypeError} for invalid pipeline options
 */
export function createHookRoutesWithPipeline(deps: HookRouteDeps): HookRoutes {
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

/** The hook routes for `functions/routes.ts`. */
export function createHookRoutes(deps: HookRouteDeps): RouteDef[] {
  return createHookRoutesWithPipeline(deps).routes;
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
 * pipeline is created on the first request and reused.
 */
export function createLazyHookRoutesWithShutdown(getDeps: () => Promise<HookRouteDeps>): LazyHookRoutes {
  let built: Promise<HookRoutes> | undefined;
  let ready: HookRoutes | undefined;
  const load = (): Promise<HookRoutes> => {
    if (built === undefined) {
      const pending = getDeps().then(createHookRoutesWithPipeline);
      built = pending;
      pending.then((r) => { ready = r; }, () => {
        // A failed bootstrap (a dependency down at start) must not poison later requests.
        if (built === pending) built = undefined;
      });
    }
    return built;
  };
  const template = createHookRoutesWithPipeline(PLACEHOLDER_DEPS).routes;
  return {
    routes: template.map((route) => ({
      ...route,
      handler: async (req, context) => {
        const real = (await load()).routes.find((r) => r.name === route.name)!;
        return real.handler(req, context);
      },
    })),
    flushRefusalSummaries: async () => ready?.pipeline.flushRefusalSummaries(),
  };
}

/** The lazy routes alone (a caller that registers no shutdown hook). */
export function createLazyHookRoutes(getDeps: () => Promise<HookRouteDeps>): RouteDef[] {
  return createLazyHookRoutesWithShutdown(getDeps).routes;
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
