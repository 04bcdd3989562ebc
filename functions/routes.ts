// The single route table: functions/index.ts registers it with app.http, infra/local/host serves it locally. Building
// it also registers the app's terminate hooks (functions/app-hooks.ts), so whichever host serves the table runs them.
import type { InvocationContext } from '@azure/functions';
import type { RouteDef } from './route-def';
import type { OrchestrationClient } from '../core/ports/orchestration-client.port';
import { healthHandler, type HealthDeps } from './health';
import { createRolloutRoutes } from './rollouts/rollout-routes';
import { createLazyHookRoutes, type HookRouteDeps } from './hooks/hook-routes';
import { buildHookRouteDeps } from './hooks/build-hook-route-deps';
import { loadEdgeSettings } from './hooks/edge-settings';
import { appHooks, type AppHooks } from './app-hooks';
import { createChainReceiptSink } from '../core/audit/chain-receipt-sink';
import { getServices } from './services';
import { guardRoutes, type RouteGuardOptions } from './http/guard-routes';
import { operatorAuthenticatorFromEnv } from './http/operator-auth';
import type { Logger } from '../core/ports/logger.port';
import { createJsonLogger } from '../adapters/logging/json-logger';
import { KarsError } from '../core/errors';
import { createLazyMeshRoutes, type MeshRouteDeps } from './mesh/mesh-routes';
import { buildMeshRouteDeps } from './mesh/build-mesh-deps';
import { loadMeshSettings } from './mesh/mesh-settings';
import { createTrustRoutes } from './trust/trust-routes';
import { getTrustDeps } from './trust/get-trust-deps';
import type { TrustRouteDeps } from './trust/trust-route-deps';
import { createLazyRouterReceiptRoutes, type RouterReceiptRouteDeps } from './audit/router-receipt-routes';
import { buildRouterAuditDeps } from './audit/build-router-audit-deps';
import { loadRouterAuditSettings } from './audit/router-audit-settings';
import { createRouterTrustRoutes } from './trust/router-trust-routes';
import type { RouterAuthenticator } from '../core/ports/router-authenticator.port';
import { createOidcRouterAuthenticator } from '../adapters/mesh/oidc-router-authenticator';
import { memoizePromise } from '../core/async/memoize-promise';
import { createConsoleRoutes } from './console/console-routes';
import { createConsoleAssets, defaultConsoleDir, type ConsoleAsset } from './console/console-assets';
import type { ConsoleDeps } from './console/console-deps';
import { buildConsoleDeps } from './console/build-console-deps';

export interface AppRouteSources {
  /** The health route's probes. */
  health: HealthDeps['probes'];
  /** The hook routes' dependencies, built on the first webhook request. */
  hookDeps(): Promise<HookRouteDeps>;
  /** The Durable client of the rollout routes. */
  rolloutClient(context: InvocationContext): OrchestrationClient | Promise<OrchestrationClient>;
  /** The mesh routes' dependencies (registry, relay store, router authentication), built on the first mesh request. */
  meshDeps?(): Promise<MeshRouteDeps>;
  /** The trust routes' dependencies (functions/trust/build-trust-deps.ts); without it the trust routes answer 500. */
  trustDeps?(): Promise<TrustRouteDeps>;
  /** The router-receipt route's dependencies (T2-R, T3-R); without it the route answers 500 CONFIG_INVALID. */
  routerAuditDeps?(): Promise<RouterReceiptRouteDeps>;
  /** Router token check of the routers' trust reads (RR2); the mesh settings' OIDC issuer. */
  routerAuthenticator?(): Promise<RouterAuthenticator>;
  /** The console's data dependencies (receipt chains, checkpoint keys); without it the console data routes answer 500. */
  consoleDeps?(): Promise<ConsoleDeps>;
  /** The console's static files; default: dist/console as `npm run build` leaves it. */
  consoleAsset?: (name: string) => ConsoleAsset | undefined;
  /** Where routes log a refused or failed request (codes only). */
  logger?: Logger;
}

/** Terminate-hook name of the edge's pending pre-auth summaries. */
export const EDGE_SUMMARY_FLUSH_HOOK = 'edge.refusal-summaries';

/**
 * The route table over the given sources. Registers on `hooks` what must run at shutdown: the edge pipeline's pending
 * pre-auth summary receipts (a dying instance would otherwise lose the counts of its open window). Every route is
 * guarded (functions/http/guard-routes.ts): no credential in a query string, operator routes for the operator role.
 */
export function buildAppRoutes(sources: AppRouteSources, hooks: AppHooks, guard: RouteGuardOptions = productionGuard()): RouteDef[] {
  const hookRoutes = createLazyHookRoutes(() => sources.hookDeps());
  hooks.onTerminate(EDGE_SUMMARY_FLUSH_HOOK, () => hookRoutes.flushRefusalSummaries());
  const health: RouteDef = { name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: healthHandler({ probes: sources.health }) };
  return guardRoutes([
    health,
    ...hookRoutes.routes,
    ...createRolloutRoutes({ getClient: (context) => sources.rolloutClient(context), logger: sources.logger }),
    ...createLazyMeshRoutes(() => sources.meshDeps?.() ?? Promise.reject(new KarsError('CONFIG_INVALID', 'mesh routes not configured'))),
    ...createTrustRoutes(() => sources.trustDeps?.() ?? Promise.reject(new KarsError('CONFIG_INVALID', 'no trust dependencies'))),
    ...createLazyRouterReceiptRoutes(() => sources.routerAuditDeps?.() ?? Promise.reject(new KarsError('CONFIG_INVALID', 'router receipts not configured'))),
    ...createRouterTrustRoutes(
      () => sources.trustDeps?.() ?? Promise.reject(new KarsError('CONFIG_INVALID', 'no trust dependencies')),
      () => sources.routerAuthenticator?.() ?? Promise.reject(new KarsError('CONFIG_INVALID', 'router authentication not configured')),
    ),
    ...createConsoleRoutes(
      () => sources.consoleDeps?.() ?? Promise.reject(new KarsError('CONFIG_INVALID', 'no console dependencies')),
      sources.consoleAsset ?? createConsoleAssets(defaultConsoleDir),
    ),
  ], guard);
}

function productionGuard(): RouteGuardOptions {
  return { operatorAuthenticator: () => operatorAuthenticatorFromEnv(process.env), logger: createJsonLogger({ component: 'functions' }) };
}

export const routes: readonly RouteDef[] = buildAppRoutes(
  {
    async health() {
      const s = await getServices();
      return { probes: s.healthProbes, timeoutMs: s.config.healthTimeoutMs };
    },
    async hookDeps() {
      const s = await getServices();
      const [appender, limiter] = await Promise.all([s.receipts(), s.edgeLimiter()]);
      return buildHookRouteDeps(
        {
          documents: s.documents,
          secrets: s.secrets,
          bus: s.bus,
          receipts: createChainReceiptSink(appender),
          limiter,
          logger: s.logger,
          // The pre-auth budgets are per deployment; the shared limiter is sized with the same count.
          maxInstances: s.config.limits.maxInstances,
          ...(s.prepareHookRegistry ? { prepareHookRegistry: s.prepareHookRegistry } : {}),
        },
        loadEdgeSettings(process.env, s.config.mode),
      );
    },
    rolloutClient: async (context) => (await getServices()).orchestrationClient(context),
    async meshDeps() {
      const s = await getServices();
      const settings = loadMeshSettings(process.env);
      const [appender, limits] = await Promise.all([s.receipts(), s.documents({ id: 'limits', defaultTtlSec: -1 })]);
      return buildMeshRouteDeps(
        { documents: s.documents, bus: s.bus, receipts: createChainReceiptSink(appender), logger: s.logger, limits, maxInstances: s.config.limits.maxInstances },
        settings,
      );
    },
    trustDeps: getTrustDeps,
    async routerAuditDeps() {
      const s = await getServices();
      const settings = loadRouterAuditSettings(process.env);
      return buildRouterAuditDeps({ receipts: createChainReceiptSink(await s.receipts()), logger: s.logger }, settings);
    },
    // One authenticator (and JWKS cache) per process; settings missing → CONFIG_INVALID, retried on the next call.
    routerAuthenticator: memoizePromise(async () => {
      const settings = loadMeshSettings(process.env);
      return createOidcRouterAuthenticator({
        issuer: settings.issuer, jwksUrl: settings.jwksUrl, audience: settings.audience, serviceAccounts: settings.serviceAccounts,
      });
    }),
    async consoleDeps() {
      const s = await getServices();
      return buildConsoleDeps({ store: await s.receiptStore(), layout: { prefix: s.config.audit.chainPrefix, count: s.config.audit.chainCount }, trustedKeys: s.auditTrustedKeys, logger: s.logger });
    },
    logger: createJsonLogger({ component: 'functions' }),
  },
  appHooks,
);
