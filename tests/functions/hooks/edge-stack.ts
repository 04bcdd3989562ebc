// The webhook edge served by the REAL local Functions host over HTTP, with real adapters: Cosmos (local server,
// @azure/cosmos SDK) for registrations and replay claims, Service Bus (local broker, @azure/service-bus SDK) for
// deliveries, receipts appended to the audit chain (ReceiptAppender over a Cosmos container), and secrets from the local
// secrets file or from Key Vault (local vault + workload identity, real SecretClient).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeDeliveryMessage } from '../../../adapters/edge/bus-edge-queue';
import { sandboxEventsEntity } from '../../../core/sandbox/sandbox-events-entity';
import { startAuthorizedBroker, type AuthorizedBroker } from '../../support/authorized-broker';
import { EDGE_REPLAY_CONTAINER, HOOKS_CONTAINER } from '../../../adapters/edge/edge-containers';
import { createLocalEdgeLimiter, type LocalEdgeLimiterOptions } from '../../../adapters/edge/local-edge-limiter';
import { createCosmosClient } from '../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers } from '../../../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../../../adapters/cosmos/cosmos-document-store';
import { createKeyVaultSecretSource } from '../../../adapters/key-vault/key-vault-secret-source';
import { createLocalSecretSource } from '../../../adapters/local-secrets/local-secret-source';
import { captureLogs } from '../../support/log-sink';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import { createChainReceiptSink } from '../../../core/audit/chain-receipt-sink';
import { DocumentReceiptStore } from '../../../core/audit/document-receipt-store';
import type { EdgePipelineOptions } from '../../../core/edge/edge-types';
import { busJson, type Bus } from '../../../core/ports/bus.port';
import { systemClock } from '../../../core/ports/clock.port';
import type { DocumentStore } from '../../../core/ports/document-store.port';
import type { EdgeLimiter } from '../../../core/ports/edge-limiter.port';
import type { HookRegistry } from '../../../core/ports/hook-registry.port';
import type { SecretSource } from '../../../core/ports/secret-source.port';
import { redact } from '../../../core/secrets/redacted';
import { buildHookRouteDeps } from '../../../functions/hooks/build-hook-route-deps';
import { loadEdgeSettings } from '../../../functions/hooks/edge-settings';
import { createHookRoutes } from '../../../functions/hooks/hook-routes';
import { startCosmosServer, type LocalCosmosServer } from '../../../infra/local/cosmos/start-cosmos-server';
import { startLocalHost, type LocalHost } from '../../../infra/local/host/local-host';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import type { KeyVaultServer } from '../../../infra/local/keyvault/keyvault-server';
import { startLocalVault, workloadVaultClient } from '../../integration/key-vault/local-vault-fixture';

export interface EdgeStackOptions {
  pipelineOptions?: EdgePipelineOptions;
  limiterOptions?: LocalEdgeLimiterOptions;
  limiter?: EdgeLimiter;
  /** Where hook secrets live (default: the local secrets file). */
  secrets?: 'file' | 'keyvault';
  /** The broker's duplicate-detection window for the edge queue (default: Service Bus's 10 min; 0 turns it off). */
  brokerDuplicateWindowMs?: number;
  /** The sandbox queues' lock duration and delivery count on the broker (default 30 s and 10). */
  brokerQueue?: { lockDurationMs?: number; maxDeliveryCount?: number };
  /** Canary strings for the function/master keys (the canary scan plants them). */
  masterKey?: string;
  functionKey?: string;
}

/** An edge receipt as read back from the audit chain. */
export interface ChainedEdgeReceipt {
  receiptId: string;
  outcome: string;
  status: number;
  code?: string;
  requestHash: string;
  subject: Record<string, string | null>;
}

export interface EdgeStack {
  url: string;
  masterKey: string;
  registry: HookRegistry;
  store: DocumentStore;
  secrets: SecretSource;
  bus: Bus;
  /** The broker with its authorization on (T1-E): grant roles, give a router its own identity and client. */
  broker: AuthorizedBroker;
  /** Every edge receipt in the audit chains, chains concatenated (a tenant's receipts are spread over chains: no order across them). */
  readReceipts(): Promise<ChainedEdgeReceipt[]>;
  /** Every log line of the host and the pipeline, as written. */
  logs: string[];
  /** Takes the deliveries waiting in one sandbox's session (and completes them). */
  drain(sandboxId: string, maxWaitMs?: number): Promise<EdgeDeliveryMessage[]>;
  /** Stops the Function app (host, adapters, caches) and starts a new one on the same Cosmos, broker and vault. */
  restartApp(options?: Pick<EdgeStackOptions, 'pipelineOptions'>): Promise<void>;
  close(): Promise<void>;
}

export async function startEdgeStack(options: EdgeStackOptions = {}): Promise<EdgeStack> {
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const cosmos: LocalCosmosServer = await startCosmosServer();
    cleanups.push(() => cosmos.stop());
    // Sandbox queues sbx-<id> (T1-E) appear on first use, session-enabled; the harness's app identity owns the
    // namespace (it plays the edge and every router), and the broker checks its tokens as the stack's broker does.
    const broker: AuthorizedBroker = await startAuthorizedBroker({
      appOwnsNamespace: true,
      autoCreateQueue: {
        requiresSession: true,
        ...(options.brokerDuplicateWindowMs !== undefined ? { duplicateDetectionWindowMs: options.brokerDuplicateWindowMs } : {}),
        ...options.brokerQueue,
      },
    });
    cleanups.push(() => broker.stop());
    const client = createCosmosClient({ endpoint: cosmos.endpoint, key: redact(cosmos.key) });
    const containers = await ensureCosmosContainers(client, 'kars', [HOOKS_CONTAINER, EDGE_REPLAY_CONTAINER, { id: 'receipts' }]);
    const hookStore = new CosmosDocumentStore(containers.get(HOOKS_CONTAINER.id)!);
    const replayStore = new CosmosDocumentStore(containers.get(EDGE_REPLAY_CONTAINER.id)!);
    const receiptStore = new DocumentReceiptStore(new CosmosDocumentStore(containers.get('receipts')!));

    let secrets: SecretSource;
    if (options.secrets === 'keyvault') {
      const identity: IdentityServer = await startIdentityServer();
      cleanups.push(() => identity.stop());
      const vault: KeyVaultServer = await startLocalVault(identity, { verifyAccessToken: identity.verifyAccessToken });
      cleanups.push(() => vault.stop());
      secrets = createKeyVaultSecretSource(workloadVaultClient(identity, vault), { cacheTtlMs: 0 });
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'kars-edge-secrets-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      secrets = createLocalSecretSource({ filePath: join(dir, 'secrets.json') });
    }

    const sink = captureLogs({ component: 'edge-stack' });
    const { lines: logs, logger } = sink;
    const masterKey = options.masterKey ?? `mk-${randomBytes(8).toString('hex')}`;
    const functionKey = options.functionKey ?? `fk-${randomBytes(8).toString('hex')}`;

    let bus: Bus;
    let host: LocalHost;
    let registry: HookRegistry;
    const startApp = async (pipelineOptions: EdgePipelineOptions | undefined): Promise<void> => {
      sink.setDisabled(pipelineOptions?._disable);
      bus = broker.bus(broker.app, { sessionWaitMs: 1000, maxRetries: 1 });
      // The composition helper the Function app uses, over this stack's stores.
      const deps = await buildHookRouteDeps({
        documents: async (spec) => (spec.id === HOOKS_CONTAINER.id ? hookStore : replayStore),
        secrets,
        bus,
        // A fresh appender per app start, as a restarted Function instance would have.
        receipts: createChainReceiptSink(new ReceiptAppender(receiptStore, { clock: systemClock })),
        limiter: options.limiter ?? createLocalEdgeLimiter(options.limiterOptions),
        logger,
      }, loadEdgeSettings({}, 'local'));
      registry = deps.registry;
      const { routes } = createHookRoutes({ ...deps, pipelineOptions: { ...deps.pipelineOptions, ...pipelineOptions } });
      host = await startLocalHost({ routes, keys: { functionKey, masterKey }, logger, port: 0 });
    };
    const stopApp = async (): Promise<void> => {
      await host.close();
      await bus.close();
    };
    await startApp(options.pipelineOptions);
    cleanups.push(() => stopApp());

    const stack: EdgeStack = {
      get url() { return host.url; },
      masterKey,
      get registry() { return registry; },
      store: hookStore,
      secrets,
      get bus() { return bus; },
      broker,
      async readReceipts() {
        const out: ChainedEdgeReceipt[] = [];
        for (const chain of await receiptStore.listChains()) {
          for await (const record of receiptStore.listEntries(chain)) {
            type Leaf = { kind?: string; outcome: string; data: Omit<ChainedEdgeReceipt, 'receiptId' | 'outcome'> };
            (record.body['receipts'] as string[]).map((r) => JSON.parse(r) as Leaf).forEach((leaf, index) => {
              if (leaf.kind !== 'edge.webhook') return;
              out.push({ receiptId: `${record.id}:${String(index).padStart(3, '0')}`, outcome: leaf.outcome, ...leaf.data });
            });
          }
        }
        return out;
      },
      logs,
      async drain(sandboxId, maxWaitMs = 1500) {
        const receiver = await bus.acceptSession(sandboxEventsEntity(sandboxId), sandboxId);
        try {
          const got = await receiver.receive(50, { maxWaitMs });
          for (const m of got) await receiver.complete(m);
          return got.map((m) => busJson(m) as unknown as EdgeDeliveryMessage);
        } finally {
          await receiver.close();
        }
      },
      async restartApp(restart) {
        await stopApp();
        await startApp(restart?.pipelineOptions ?? options.pipelineOptions);
      },
      async close() {
        for (const c of cleanups.reverse()) await c();
      },
    };
    return stack;
  } catch (e) {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw e;
  }
}

/** POSTs a webhook to the stack. */
export function postHook(stack: Pick<EdgeStack, 'url'>, channel: string, hookId: string, body: string | Uint8Array, headers: Record<string, string>, query = ''): Promise<Response> {
  return fetch(`${stack.url}/api/hooks/${channel}/${hookId}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
}
