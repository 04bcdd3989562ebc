// Composition root for the Function app: builds adapters from config once per process and hands them to handlers.
// Azure mode reaches every service with the managed / workload identity; local mode points the same SDKs at the
// stand-ins `npm start` runs. Nothing here imports the local stack: the local host (infra/local/host/main.ts) passes
// its Durable runner and its DEV-ONLY demo hooks in through BuildServicesOptions.
import type { InvocationContext } from '@azure/functions';
import type { HealthProbe } from '../core/ports/health-probe.port';
import type { Logger } from '../core/ports/logger.port';
import type { SecretSource } from '../core/ports/secret-source.port';
import type { TokenSource } from '../core/ports/token-source.port';
import type { Bus } from '../core/ports/bus.port';
import type { OrchestrationClient } from '../core/ports/orchestration-client.port';
import type { SandboxDriver } from '../core/ports/sandbox-driver.port';
import type { HookRegistry } from '../core/ports/hook-registry.port';
import { KarsError } from '../core/errors';
import { redact, type Redacted } from '../core/secrets/redacted';
import { createJsonLogger } from '../adapters/logging/json-logger';
import { createAzureCredential, type AzureCredential } from '../adapters/identity/create-azure-credential';
import { createCredentialTokenSource } from '../adapters/identity/credential-token-source';
import { createIdentityHealthProbe } from '../adapters/identity/identity-health-probe';
import { createKeyVaultHealthProbe } from '../adapters/key-vault/key-vault-health-probe';
import { createKeyVaultSecretSource, createSecretClient } from '../adapters/key-vault/key-vault-secret-source';
import { createLocalSecretSource } from '../adapters/local-secrets/local-secret-source';
import { createServiceBusBus } from '../adapters/service-bus/create-service-bus-bus';
import { createStorageHealthProbe } from '../adapters/storage/storage-health-probe';
import { createDurableFunctionsClient } from '../adapters/durable/durable-functions-client';
import { MemorySandboxDriver } from '../adapters/memory/memory-sandbox-driver';
import { KubernetesSandboxDriver } from '../adapters/kubernetes/kubernetes-sandbox-driver';
import { aksKubeConfig } from '../adapters/kubernetes/aks-kube-config';
import { loadRolloutDriverSettings } from './rollouts/rollout-driver-settings';
import { createCosmosClient } from '../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER, type CosmosContainerSpec } from '../adapters/cosmos/cosmos-containers';
import { CosmosDocumentStore } from '../adapters/cosmos/cosmos-document-store';
import { createCosmosHealthProbe } from '../adapters/cosmos/cosmos-health-probe';
import type { DocumentStore } from '../core/ports/document-store.port';
import { createCosmosReceiptStore } from '../adapters/cosmos/cosmos-receipt-store';
import { ReceiptAppender } from '../core/audit/append-receipt';
import { createSecretCheckpointSigner } from '../core/audit/checkpoint-signer';
import { trustedKeyMap } from '../core/audit/checkpoint';
import { parseEd25519PrivateKey } from '../core/audit/ed25519-keys';
import type { ReceiptStore } from '../core/ports/receipt-store.port';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { systemClock } from '../core/ports/clock.port';
import type { EdgeLimiter } from '../core/ports/edge-limiter.port';
import { createSharedEdgeLimiter } from '../adapters/edge-limiter/shared-edge-limiter';
import { memoizePromise, memoizePromiseByKey } from '../core/async/memoize-promise';
import { loadConfig, type Config } from './config';
import { LIMITS_CONTAINER, sharedEdgeLimiterOptions } from './edge-limiter-options';

export interface Services {
  config: Config;
  logger: Logger;
  credential: AzureCredential;
  tokens: TokenSource;
  secrets: SecretSource;
  bus: Bus;
  healthProbes: HealthProbe[];
  /** The document store over one Cosmos container, created on first use. */
  documents(spec: CosmosContainerSpec): Promise<DocumentStore>;
  /** The process's receipt appender over the Cosmos receipt chains (T1-R, T2-R, T4-R). */
  receipts(): Promise<ReceiptAppender>;
  /** The receipt chains as stored, for readers (the console; the verifier treats them as untrusted). */
  receiptStore(): Promise<ReceiptStore>;
  /** The checkpoint signing key's public half, by key id: what the console verifies checkpoints against. */
  auditTrustedKeys(): Promise<ReadonlyMap<string, KeyObject>>;
  /** Rate limits and budgets shared by every instance through Cosmos (T1-D, RR3). */
  edgeLimiter(): Promise<EdgeLimiter>;
  orchestrationClient(context: InvocationContext): OrchestrationClient;
  sandboxDriver(): SandboxDriver;
  /** Run once over the hook registry before the edge serves (the local host's demo hooks); undefined in Azure. */
  prepareHookRegistry?: (registry: HookRegistry) => Promise<void>;
  close(): Promise<void>;
}

/** An orchestration client that runs the orchestrations itself, in this process (the local Durable runner). */
export interface InProcessOrchestrationRunner extends OrchestrationClient {
  stop(): Promise<void>;
}

export interface StartOrchestrationRunnerOptions {
  /** The task hub's storage (Azurite locally). */
  connectionString: Redacted<string>;
  taskHub: string;
  logger: Logger;
}

/** What only the local host passes in; the Azure entry (functions/index.ts) passes none of it. */
export interface BuildServicesOptions {
  /** Runs orchestrations in this process instead of through the Durable extension's client. */
  startOrchestrationRunner?: (options: StartOrchestrationRunnerOptions) => Promise<InProcessOrchestrationRunner>;
  /** Prepares the hook registry before the first webhook is served (seeds the local host's DEV-ONLY demo hooks). */
  prepareHookRegistry?: (registry: HookRegistry) => Promise<void>;
  /** The sandbox driver of local mode (the local stack's demo routers); default: the in-memory stand-in. */
  sandboxDriver?: SandboxDriver;
}

const named = (name: string, probe: HealthProbe): HealthProbe => ({ name, check: (signal) => probe.check(signal) });

export async function buildServices(config: Config, options: BuildServicesOptions = {}): Promise<Services> {
  const logger = createJsonLogger({ component: 'functions' });
  const credential = createAzureCredential(process.env);
  const tokens = createCredentialTokenSource(credential.credential, { logger });

  const secrets: SecretSource =
    config.secrets.source === 'keyvault'
      ? createKeyVaultSecretSource(createSecretClient(config.secrets.vaultUrl!, credential.credential))
      : createLocalSecretSource({ filePath: config.secrets.file });
  // The checkpoint signing key lives in its own vault where the app holds read-only access (T1-R).
  const auditSecrets: SecretSource = config.secrets.source === 'keyvault' && config.audit.vaultUrl
    ? createKeyVaultSecretSource(createSecretClient(config.audit.vaultUrl, credential.credential))
    : secrets;

  const bus = createServiceBusBus(
    config.serviceBus.connectionString
      ? { connectionString: config.serviceBus.connectionString }
      : {
        fullyQualifiedNamespace: config.serviceBus.namespace!, credential: credential.credential,
        developmentEmulator: config.serviceBus.developmentEmulator,
      },
  );

  const cosmos = createCosmosClient(
    config.cosmos.key
      ? { endpoint: config.cosmos.endpoint, key: redact(config.cosmos.key) }
      : { endpoint: config.cosmos.endpoint, credential: credential.credential },
  );
  // Each build is kept once it succeeds and retried after a failure (Cosmos down at start-up must not poison later calls).
  const documents = memoizePromiseByKey(
    (spec: CosmosContainerSpec): Promise<DocumentStore> =>
      ensureCosmosContainers(cosmos, config.cosmos.database, [spec]).then((m) => new CosmosDocumentStore(m.get(spec.id)!)),
    (spec) => spec.id,
  );

  const receiptStore = memoizePromise(() =>
    ensureCosmosContainers(cosmos, config.cosmos.database, [RECEIPTS_CONTAINER]).then((m) => createCosmosReceiptStore(m.get(RECEIPTS_CONTAINER.id)!)),
  );
  const receipts = memoizePromise(() =>
    receiptStore().then(
      (store) =>
        new ReceiptAppender(store, {
          clock: systemClock,
          layout: { prefix: config.audit.chainPrefix, count: config.audit.chainCount },
          signer: createSecretCheckpointSigner(auditSecrets, { secretName: config.audit.signingKeyName, clock: systemClock }),
          checkpointEvery: config.audit.checkpointEvery,
          logger,
        }),
    ),
  );

  // The public half of the signing key (the app reads that secret to sign); an independent auditor uses the CLI with
  // its own copy of the public key.
  const auditTrustedKeys = memoizePromise(async () => {
    const secret = await auditSecrets.getSecret(config.audit.signingKeyName);
    return trustedKeyMap([createPublicKey(parseEd25519PrivateKey(secret.reveal()))]);
  });

  const edgeLimiter = memoizePromise(() =>
    documents(LIMITS_CONTAINER).then((store) => createSharedEdgeLimiter(store, sharedEdgeLimiterOptions(config.limits, logger))),
  );

  const storageTarget = config.storage.connectionString
    ? redact(config.storage.connectionString)
    : { accountName: config.storage.accountName!, credential: credential.credential };
  if (options.startOrchestrationRunner && !config.storage.connectionString) {
    throw new KarsError('CONFIG_INVALID', 'invalid or missing settings: AzureWebJobsStorage (the in-process Durable runner needs a connection string)');
  }
  const runner = options.startOrchestrationRunner
    ? await options.startOrchestrationRunner({ connectionString: redact(config.storage.connectionString!), taskHub: config.durableTaskHub, logger })
    : undefined;

  const identityLiveness = createIdentityHealthProbe(credential);
  const healthProbes: HealthProbe[] = [
    createCosmosHealthProbe(cosmos, { name: 'cosmos' }),
    named('servicebus', bus.health),
    createStorageHealthProbe(storageTarget, { name: 'storage' }),
    named('secrets', config.secrets.vaultUrl ? createKeyVaultHealthProbe(config.secrets.vaultUrl) : { name: 'secrets', check: async () => undefined }),
    {
      // The provider answers AND this app can get a token from it (cached, so cheap after the first call).
      name: 'identity',
      check: async (signal) => {
        await identityLiveness.check(signal);
        await tokens.getToken(config.identityHealthScope, { abortSignal: signal });
      },
    },
    // The task hub's storage answers (the runner, or the Durable extension in Azure, keeps all state there).
    createStorageHealthProbe(storageTarget, { name: 'durable' }),
  ];

  const sandboxDriver = config.mode === 'local' ? options.sandboxDriver ?? new MemorySandboxDriver({ autoCreate: true }) : undefined;
  let aks: SandboxDriver | undefined;
  const aksDriver = (): SandboxDriver => {
    if (aks) return aks;
    const s = loadRolloutDriverSettings(process.env);
    aks = new KubernetesSandboxDriver({
      kubeConfig: aksKubeConfig({ apiServer: s.apiServer, caCertBase64: s.caCertBase64, tokenScope: s.tokenScope, tokens }),
      images: { publicKeyPem: s.imagePublicKeyPem },
    });
    return aks;
  };

  return {
    config,
    logger,
    credential,
    tokens,
    secrets,
    bus,
    healthProbes,
    documents,
    receipts,
    receiptStore,
    auditTrustedKeys,
    edgeLimiter,
    orchestrationClient: (context) => runner ?? createDurableFunctionsClient(context),
    // Azure mode: the AKS driver, built at the first rollout activity; bad or missing settings fail those activities
    // closed (CONFIG_INVALID) and are read again next time.
    sandboxDriver: () => sandboxDriver ?? aksDriver(),
    ...(options.prepareHookRegistry ? { prepareHookRegistry: options.prepareHookRegistry } : {}),
    async close() {
      await runner?.stop();
      await bus.close();
      cosmos.dispose();
    },
  };
}

let current = memoizePromise(() => buildServices(loadConfig(process.env)));

/**
 * Lazily builds the process-wide services from process.env (the Functions host's app settings). A failed build (a bad
 * setting, a dependency down) is not kept: the next call builds again.
 */
export function getServices(): Promise<Services> {
  return current();
}

/**
 * For the local host and tests: install services built elsewhere. A promise may be installed before its build ends:
 * work started during the build (activities the Durable runner resumes at start) then waits for these services
 * instead of building default ones of its own (whose in-memory sandbox driver would answer for no real sandbox).
 */
export function _setServices(services: Services | Promise<Services>): void {
  current = memoizePromise(async () => services);
}
