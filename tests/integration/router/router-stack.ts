// Test helper: a sandbox router in this process, with the real @azure/identity workload-identity credential against
// the local identity server, in front of either the local model stand-in (HTTPS, dev CA) or a test's own upstream.
import type { AddressInfo } from 'node:net';
import * as http from 'node:http';
import * as https from 'node:https';
import type { TokenCredential } from '@azure/identity';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { createFreshTokenSource, type FreshTokenSourceOptions } from '../../../adapters/identity/fresh-token-source';
import type { Clock } from '../../../core/ports/clock.port';
import { systemClock } from '../../../core/ports/clock.port';
import type { LogFields, Logger } from '../../../core/ports/logger.port';
import { COGNITIVE_SERVICES_SCOPE } from '../../../core/router/model-audience';
import { DEFAULT_ROUTER_LIMITS, type RouterLimits } from '../../../core/router/router-limiter';
import type { RouterMitigation } from '../../../core/router/router-mitigations';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { startModelUpstream, type ModelUpstream } from '../../../infra/local/model-upstream/model-upstream-server';
import { createRouterServer, type RouterServer } from '../../../sandbox-node/router/router-server';
import { createUpstreamClient, type UpstreamAgent } from '../../../sandbox-node/router/upstream-client';
import { workloadIdentityEnv } from '../identity/local-identity-fixture';
import type { CircuitBreakerSet } from '../../../core/limits/circuit-breaker-set';
import { systemSleep, type Sleep } from '../../../core/ports/sleep.port';
import type { UpstreamMitigation } from '../../../core/router/upstream/call-with-failover';
import { createDeploymentHealth } from '../../../core/router/upstream/deployment-health';
import type { ConnectHandler } from '../../../sandbox-node/router/egress/connect-proxy';
import type { TokenBudget } from '../../../core/ports/token-budget.port';
import type { ReceiptSink } from '../../../core/ports/receipt-sink.port';
import type { Tracer } from '@opentelemetry/api';
import type { EventRelay } from '../../../core/router/events/event-relay';

export interface LogLine {
  level: string;
  event: string;
  fields: LogFields;
}

export interface StartRouterOptions {
  /** The upstream base URL; default: a fresh local model stand-in. */
  upstreamUrl?: string;
  identity?: IdentityServer;
  credential?: () => TokenCredential;
  tokenOptions?: FreshTokenSourceOptions;
  deployments?: readonly string[];
  limits?: RouterLimits;
  maxConcurrency?: number;
  maxBodyBytes?: number;
  clock?: Clock;
  /** The upstream agent (default: trusts the dev CA); e.g. the egress module's pinned TLS agent. */
  upstreamAgent?: UpstreamAgent;
  _disable?: readonly RouterMitigation[];
  _disableUpstream?: readonly UpstreamMitigation[];
  /** Failover lists (deployment → fallbacks). */
  fallbacks?: ReadonlyMap<string, readonly string[]>;
  /** The tool CONNECT handler to mount (e.g. tests/support/egress-fixture.ts's). */
  connect?: ConnectHandler;
  /** Deployment health breakers; default a fresh set on `clock`. */
  health?: CircuitBreakerSet;
  sleep?: Sleep;
  /** RR3 token budget (e.g. createSharedTokenBudget over the local Cosmos server). */
  budget?: TokenBudget;
  tracer?: Tracer;
  receipts?: ReceiptSink;
  sandboxId?: string;
  tenantId?: string;
  /** Inbound events (sandbox-node/router/router-events.ts). */
  events?: EventRelay;
}

export interface RouterStack {
  url: string;
  router: RouterServer;
  identity: IdentityServer;
  upstream?: ModelUpstream;
  logs: LogLine[];
  stop(): Promise<void>;
}

export async function startRouterStack(options: StartRouterOptions = {}): Promise<RouterStack> {
  const ownIdentity = options.identity ? undefined : await startIdentityServer();
  const identity = options.identity ?? ownIdentity!;
  const upstream = options.upstreamUrl ? undefined : await startModelUpstream({ verifyAccessToken: identity.verifyAccessToken });
  const logs: LogLine[] = [];
  const logger: Logger = {
    info: (event, fields = {}) => logs.push({ level: 'info', event, fields }),
    warn: (event, fields = {}) => logs.push({ level: 'warn', event, fields }),
    error: (event, fields = {}) => logs.push({ level: 'error', event, fields }),
  };
  const credential = options.credential ??
    (() => createAzureCredential(workloadIdentityEnv(identity), { caCertPem: identity.caCertPem }).credential);
  const tokens = createFreshTokenSource(credential, { logger, ...options.tokenOptions, ...(options._disable ? { _disable: options._disable } : {}) });
  const agent = new https.Agent({ keepAlive: true, ca: identity.caCertPem });
  const plain = new http.Agent({ keepAlive: true });
  const router = createRouterServer(
    {
      sandboxId: options.sandboxId ?? 'test-sandbox', agentId: options.sandboxId ?? 'test-sandbox', tenantId: options.tenantId ?? 'test-tenant', endpoint: new URL(options.upstreamUrl ?? upstream!.url),
      scope: COGNITIVE_SERVICES_SCOPE, deployments: new Set(options.deployments ?? ['gpt-4o-mini', 'text-embedding-3-small']),
      maxConcurrency: options.maxConcurrency ?? 256, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      limits: options.limits ?? DEFAULT_ROUTER_LIMITS, ...(options.fallbacks ? { fallbacks: options.fallbacks } : {}),
    },
    {
      tokens,
      upstream: createUpstreamClient({ timeoutMs: 10_000, agent: options.upstreamAgent ?? ((u) => (u.protocol === 'https:' ? agent : plain)) }),
      clock: options.clock ?? systemClock, logger,
      health: options.health ?? createDeploymentHealth(options.clock ?? systemClock), sleep: options.sleep ?? systemSleep,
      ...(options.connect ? { connect: options.connect } : {}), ...(options.budget ? { budget: options.budget } : {}),
      ...(options.tracer ? { tracer: options.tracer } : {}), ...(options.receipts ? { receipts: options.receipts } : {}),
      ...(options.events ? { events: options.events } : {}),
    },
    { ...(options._disable ? { _disable: options._disable } : {}), ...(options._disableUpstream ? { _disableUpstream: options._disableUpstream } : {}) },
  );
  await new Promise<void>((resolve) => router.server.listen(0, '127.0.0.1', resolve));
  const port = (router.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, router, identity, upstream, logs,
    async stop() {
      await router.drain(1000);
      agent.destroy();
      plain.destroy();
      await upstream?.stop();
      await ownIdentity?.stop();
    },
  };
}
