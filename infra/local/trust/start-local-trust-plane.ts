// The local stack's trust plane in one process, for the router-side tests and `npm run bench -- trust`: the Cosmos
// stand-in and the local AMQP broker (real @azure/cosmos and @azure/service-bus), the local Functions host serving the
// trust routes (operator and router reads) behind the route guard, the queue driver running the applier trigger, and
// the cluster OIDC issuer stand-in whose tokens the router reads are checked against (real authenticator, its JWKS
// answered in process). Same parts and defaults as `npm start`; ports are free ones.
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { createMemoryReceiptSink } from '../../../adapters/memory/memory-edge-receipts';
import { createOidcRouterAuthenticator } from '../../../adapters/mesh/oidc-router-authenticator';
import { createServiceBusBus } from '../../../adapters/service-bus/create-service-bus-bus';
import { TRUST_CONTAINER, TRUST_REPLAY_CONTAINER, TRUST_UPDATES_QUEUE } from '../../../adapters/trust/trust-containers';
import { systemClock } from '../../../core/ports/clock.port';
import type { Logger } from '../../../core/ports/logger.port';
import { MESH_TOKEN_AUDIENCE } from '../../../core/mesh/router-auth/verify-router-token';
import { redact } from '../../../core/secrets/redacted';
import { guardRoutes } from '../../../functions/http/guard-routes';
import { createTrustApplyTrigger } from '../../../functions/trust/apply-trust-trigger';
import { buildTrustDeps } from '../../../functions/trust/build-trust-deps';
import { createRouterTrustRoutes } from '../../../functions/trust/router-trust-routes';
import { createTrustRoutes } from '../../../functions/trust/trust-routes';
import { startCosmosServer } from '../cosmos/start-cosmos-server';
import { startLocalHost } from '../host/local-host';
import { startQueueDriver } from '../host/queue-driver';
import { createServiceAccountIssuer } from '../identity/service-account-issuer';
import { startServiceBusBroker } from '../servicebus/start-broker';

export const LOCAL_OIDC_ISSUER = 'https://oidc.local.kars/trust';

export interface LocalTrustPlane {
  /** `http://127.0.0.1:<port>/api` */
  readonly apiBase: string;
  /** The host's master key: operator routes locally. */
  readonly masterKey: string;
  /** A projected service-account token of `<sandbox>`'s router (audience kars-mesh). */
  tokenFor(sandbox: string): string;
  /** Called when the applier has stored a new projection version (after the Cosmos write). */
  onApplied(listener: (version: number, atMs: number) => void): void;
  stop(): Promise<void>;
}

export async function startLocalTrustPlane(options: { logger: Logger; masterKey?: string }): Promise<LocalTrustPlane> {
  const { logger } = options;
  const masterKey = options.masterKey ?? 'local-trust-plane-master-key';
  const stops: Array<() => Promise<unknown> | void> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
  };
  try {
    const cosmos = await startCosmosServer();
    stops.push(() => cosmos.stop());
    // A trust-plane harness for tests and the bench, not the stack: the queue mechanics matter here, not broker auth
    // (T1-E's token and role checks run in `npm start` and in tests/threats/T1-E-sandbox-broker-isolation.test.ts).
    const broker = await startServiceBusBroker({
      authorization: 'dev-allow-all', queues: [{ name: TRUST_UPDATES_QUEUE, requiresSession: true }], strictQueues: true,
    });
    stops.push(() => broker.stop());
    const client = createCosmosClient({ endpoint: cosmos.endpoint, key: redact(cosmos.key) });
    stops.push(() => client.dispose());
    const containers = await ensureCosmosContainers(client, 'kars', [TRUST_CONTAINER, TRUST_REPLAY_CONTAINER]);
    const bus = createServiceBusBus({ connectionString: broker.connectionString });
    stops.push(() => bus.close());
    const deps = buildTrustDeps({
      trustDocuments: new CosmosDocumentStore(containers.get(TRUST_CONTAINER.id)!),
      replayDocuments: new CosmosDocumentStore(containers.get(TRUST_REPLAY_CONTAINER.id)!),
      bus, receipts: createMemoryReceiptSink(), clock: systemClock, logger,
    });
    const issuer = createServiceAccountIssuer(LOCAL_OIDC_ISSUER, 'system:serviceaccount:kars-system:kars-router');
    const authenticator = createOidcRouterAuthenticator({
      issuer: LOCAL_OIDC_ISSUER, jwksUrl: `${LOCAL_OIDC_ISSUER}/openid/v1/jwks`, audience: MESH_TOKEN_AUDIENCE, serviceAccounts: ['kars-router'],
      fetchImpl: async () => new Response(JSON.stringify(issuer.jwks()), { headers: { 'content-type': 'application/json' } }),
    });
    // No Entra settings locally: the host's key check guards the operator routes, as under `npm start`.
    const routes = guardRoutes(
      [...createTrustRoutes(async () => deps), ...createRouterTrustRoutes(async () => deps, async () => authenticator)],
      { operatorAuthenticator: () => undefined, logger },
    );
    const host = await startLocalHost({ routes, keys: { functionKey: `${masterKey}-fn`, masterKey }, logger, port: 0 });
    stops.push(() => host.close());
    const listeners: Array<(version: number, atMs: number) => void> = [];
    const trigger = createTrustApplyTrigger(async () => ({
      ...deps,
      apply: {
        ...deps.apply,
        store: {
          load: (t) => deps.apply.store.load(t),
          async save(next, ifMatch) {
            await deps.apply.store.save(next, ifMatch);
            const atMs = Date.now();
            for (const l of listeners) l(next.graph.version, atMs);
          },
        },
      },
    }));
    const driver = startQueueDriver({ bus, triggers: [trigger], logger });
    stops.push(() => driver.stop());
    return {
      apiBase: `${host.url}/api`,
      masterKey,
      tokenFor: (sandbox) => issuer.mint({ subject: `system:serviceaccount:${sandbox}:kars-router`, audience: MESH_TOKEN_AUDIENCE }),
      onApplied: (l) => void listeners.push(l),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
