// Composition root of the sandbox router daemon (UID 1001, one per sandbox pod): settings → listen address check
// (T2-S) → identity (workload identity in AKS, managed identity as fallback) → token source with the one-hour cap
// (T3-E) → upstream client → receipt shipping → inbound events (the sandbox's own Service Bus session, when configured)
// → listener. Prints `router listening on <port>` once bound; SIGTERM/SIGINT drain the requests in flight (unacked
// events go back to the broker), give the receipt shipper a moment, and exit 0. A configuration error exits 2 with the
// code and the offending key, never a value.
import { KarsError, isKarsError } from '../../core/errors';
import { systemClock } from '../../core/ports/clock.port';
import { resolveListenAddress } from '../../core/router/listen-address';
import { createAzureCredential } from '../../adapters/identity/create-azure-credential';
import { createFreshTokenSource } from '../../adapters/identity/fresh-token-source';
import { createJsonLogger } from '../../adapters/logging/json-logger';
import { CircuitBreakerSet, TOOL_BREAKER_DEFAULTS } from '../../core/limits/circuit-breaker-set';
import { systemSleep } from '../../core/ports/sleep.port';
import { receiptEgressAudit } from '../../core/router/egress/egress-refusal-receipt';
import { createDeploymentHealth } from '../../core/router/upstream/deployment-health';
import { createConnectHandler } from './egress/connect-proxy';
import { dnsNameResolver } from './egress/dns-name-resolver';
import { createUpstreamAgent } from './egress/upstream-agent';
import { logReceiptSink } from './log-receipt-sink';
import { createRouterBudget } from './router-budget';
import { createRouterTelemetry } from './router-telemetry';
import { loadRouterConfig } from './router-config';
import { createRouterServer } from './router-server';
import { createUpstreamClient } from './upstream-client';
import { startReceiptShipping } from './audit/start-receipt-shipping';
import { upstreamTlsOptions } from './upstream-tls-files';
import { createServiceBusBus } from '../../adapters/service-bus/create-service-bus-bus';
import { startRouterEvents } from './router-events';
import { loadMeshBridgeConfig } from './mesh/mesh-bridge-config';
import { startMeshBridge } from './mesh/start-mesh-bridge';
import { trustScoreSourceFromEnv } from './router-trust-settings';

async function main(): Promise<void> {
  const logger = createJsonLogger({ component: 'router' });
  const config = loadRouterConfig(process.env);
  const meshConfig = loadMeshBridgeConfig(process.env);
  const listen = resolveListenAddress(config.listen, { allowNonLoopback: config.allowNonLoopback });
  if (!listen.ok) throw new KarsError(listen.code, listen.message);
  if (listen.value.exposed) {
    logger.warn('router.listen_not_loopback', { reason: 'KARS_ROUTER_ALLOW_NON_LOOPBACK=true: reachable from outside the pod (dev only)' });
  }
  // Built once now (settings errors fail start-up), again by the token source when a cache hands back an old token.
  const credentialOf = () => createAzureCredential(process.env).credential;
  credentialOf();
  const tokens = createFreshTokenSource(credentialOf, { logger });
  // T3-T: TLS to the model endpoint only (servername pinned to its DNS name, verification forced on); plain http is
  // accepted by the settings for loopback endpoints only (the bench's stand-in).
  const agent = config.endpoint.protocol === 'https:'
    ? createUpstreamAgent({
      endpoints: [{ host: config.endpoint.hostname, port: Number(config.endpoint.port || 443) }], maxSockets: config.maxConcurrency,
      ...upstreamTlsOptions(config.upstreamTls),
    })
    : undefined;
  // T2-R / T3-R: receipts go to the durable spool and from there to the signed chain; without an audit URL they are
  // log lines only, which nothing signs.
  const shipper = config.audit ? await startReceiptShipping(config.audit, logger) : undefined;
  if (!shipper) logger.warn('router.receipts_log_only', { reason: 'KARS_ROUTER_AUDIT_URL unset: receipts are log lines, not the signed audit chain' });
  const receipts = shipper ?? logReceiptSink(logger);
  const telemetry = createRouterTelemetry({ sandboxId: config.sandboxId, ...(config.appInsightsConnectionString ? { connectionString: config.appInsightsConnectionString } : {}) });
  // T3-S / T2-I / T2-D: the tool CONNECT proxy on the same listener; no allowlist configured → every tunnel refused.
  const connect = createConnectHandler(
    { resolver: dnsNameResolver(), audit: receiptEgressAudit(receipts), breakers: new CircuitBreakerSet(systemClock, TOOL_BREAKER_DEFAULTS), clock: systemClock, logger },
    { sandboxId: config.sandboxId, allowlist: config.egressAllowlist },
  );
  // Inbound events: this sandbox's entity and session only (T1-E), handed to the agent on the loopback listener.
  const eventsConfig = config.events;
  const eventsBus = eventsConfig === undefined ? undefined : createServiceBusBus('connectionString' in eventsConfig.serviceBus
    ? { connectionString: eventsConfig.serviceBus.connectionString }
    : {
      fullyQualifiedNamespace: eventsConfig.serviceBus.namespace, credential: credentialOf(),
      developmentEmulator: eventsConfig.serviceBus.developmentEmulator,
    });
  const events = eventsConfig === undefined || eventsBus === undefined ? undefined : startRouterEvents(
    { sandboxId: config.sandboxId, entity: eventsConfig.entity, sessionId: eventsConfig.sessionId, ackWindowMs: eventsConfig.ackWindowMs, maxInFlight: eventsConfig.maxInFlight },
    { bus: eventsBus, clock: systemClock, logger },
  );
  // T4: the mesh bridge (`/agt/relay`, `/agt/registry/…`) when KARS_MESH_FUNCTIONS_URL is set.
  // RR2: the live trust source gates KNOCKs when KARS_ROUTER_TRUST_API is set.
  const liveTrust = meshConfig ? trustScoreSourceFromEnv(process.env, config.tenantId, logger) : undefined;
  liveTrust?.start();
  const mesh = meshConfig
    ? await startMeshBridge(meshConfig, {
      sandboxId: config.sandboxId, tenantId: config.tenantId, clock: systemClock, logger, receipts, credential: credentialOf,
      ...(liveTrust ? { trust: liveTrust } : {}),
    })
    : undefined;
  const router = createRouterServer(
    { ...config, limits: config.limits },
    {
      tokens, upstream: createUpstreamClient({ timeoutMs: config.upstreamTimeoutMs, ...(agent ? { agent } : {}) }), clock: systemClock, logger,
      health: createDeploymentHealth(systemClock), sleep: systemSleep, connect,
      budget: createRouterBudget(config, credentialOf, systemClock, logger),
      ...(telemetry.exporting ? { tracer: telemetry.tracer } : {}), receipts, ...(events ? { events: events.relay } : {}), ...(mesh ? { mesh: mesh.bridge } : {}),
    },
  );
  await new Promise<void>((resolve, reject) => {
    router.server.once('error', reject);
    router.server.listen(listen.value.port, listen.value.host, () => resolve());
  });
  const address = router.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.value.port;
  process.stdout.write(`router ${config.sandboxId} listening on ${port}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    logger.info('router.draining', { sandboxId: config.sandboxId, count: router.inFlight });
    // A waiting poll answers at once; events still unacked after the drain go back to the broker (delivered again).
    // Receipts of the drained calls get a short chance to ship; what is left stays on the spool for the next start.
    events?.relay.stopPolling();
    void router.drain(config.drainMs)
      .then(() => events?.close().catch(() => undefined))
      .then(() => eventsBus?.close().catch(() => undefined))
      .then(() => mesh?.stop().catch(() => undefined))
      .then(() => liveTrust?.stop().catch(() => undefined))
      .then(() => shipper?.stop(Math.min(3000, config.drainMs)).catch(() => undefined))
      .then(() => telemetry.shutdown().catch(() => undefined)).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  const code = isKarsError(e) ? e.code : (e as { code?: string })?.code ?? 'INTERNAL';
  const message = isKarsError(e) ? e.message : 'router failed to start';
  process.stderr.write(`router: ${code}: ${message}\n`);
  process.exit(2);
});
