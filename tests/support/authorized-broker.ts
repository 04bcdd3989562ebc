// Test helper (T1-E): the local broker with its authorization on, behind the local identity stand-in, so tests reach
// it as the stack does: the real @azure/identity WorkloadIdentityCredential gets an Entra token, the real
// @azure/service-bus SDK puts it on $cbs, and the broker checks the token and the role assignments.
import { randomBytes } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { createAzureCredential } from '../../adapters/identity/create-azure-credential';
import { createServiceBusBus, type CreateServiceBusBusOptions, emulatorNamespace } from '../../adapters/service-bus/create-service-bus-bus';
import { LocalSandboxIdentityProvisioner, type LocalSandboxIdentityGrant } from '../../adapters/local-sandbox-identity/local-sandbox-identity-provisioner';
import type { Bus } from '../../core/ports/bus.port';
import { redact } from '../../core/secrets/redacted';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { NAMESPACE_SCOPE, type BrokerRole } from '../../infra/local/servicebus/broker-authorization';
import { startServiceBusBroker, type QueueOptions, type ServiceBusBrokerHandle } from '../../infra/local/servicebus/start-broker';

/** An identity a test can act as: its principal and a credential that fetches its tokens. */
export interface TestIdentity {
  principalId: string;
  credential: TokenCredential;
}

export interface AuthorizedBroker {
  identity: IdentityServer;
  broker: ServiceBusBrokerHandle;
  /** The stack's own workload identity (the Function app's in the local stack): no broker role unless granted. */
  app: TestIdentity;
  provisioner: LocalSandboxIdentityProvisioner;
  /** Provisions a sandbox (queue, identity, receiver role) and returns its grant and credential. */
  sandbox(sandboxId: string): Promise<LocalSandboxIdentityGrant & TestIdentity>;
  grant(principalId: string, scope: string, role: BrokerRole): void;
  client(who: TestIdentity): ServiceBusClient;
  bus(who: TestIdentity, options?: Partial<CreateServiceBusBusOptions>): Bus;
  stop(): Promise<void>;
}

export interface StartAuthorizedBrokerOptions {
  queues?: QueueOptions[];
  strictQueues?: boolean;
  autoCreateQueue?: Omit<QueueOptions, 'name'>;
  /** Give the app identity Data Owner on the whole namespace (a harness that plays edge and reader at once). */
  appOwnsNamespace?: boolean;
}

export async function startAuthorizedBroker(options: StartAuthorizedBrokerOptions = {}): Promise<AuthorizedBroker> {
  const adminKey = randomBytes(24).toString('base64url');
  const identity = await startIdentityServer({ adminKey });
  const broker = await startServiceBusBroker({
    queues: options.queues, strictQueues: options.strictQueues, adminKey,
    ...(options.autoCreateQueue ? { autoCreateQueue: options.autoCreateQueue } : {}),
    authorization: { verifyAccessToken: identity.verifyAccessToken },
  });
  const credentialOf = (clientId: string, tokenFile: string): TokenCredential => createAzureCredential({
    AZURE_TENANT_ID: identity.tenantId, AZURE_CLIENT_ID: clientId, AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    AZURE_AUTHORITY_HOST: identity.authorityHost,
  }, { caCertPem: identity.caCertPem, maxRetries: 0 }).credential;
  const app: TestIdentity = { principalId: identity.workloadPrincipalId, credential: credentialOf(identity.clientId, identity.federatedTokenFile) };
  const table = broker.authorization!;
  let n = 0;
  const grant = (principalId: string, scope: string, role: BrokerRole): void => {
    table.assign({ id: `test-${++n}`, principalId, scope, role });
  };
  if (options.appOwnsNamespace) grant(app.principalId, NAMESPACE_SCOPE, 'Azure Service Bus Data Owner');
  const provisioner = new LocalSandboxIdentityProvisioner({
    brokerAdminUrl: broker.adminUrl!, identityUrl: identity.authorityHost, caCertPem: identity.caCertPem,
    adminKey: redact(adminKey), senderPrincipalIds: [app.principalId],
  });
  const clients: ServiceBusClient[] = [];
  const buses: Bus[] = [];
  return {
    identity, broker, app, provisioner, grant,
    async sandbox(sandboxId) {
      const g = await provisioner.provision(sandboxId);
      return { ...g, credential: credentialOf(g.clientId, g.federatedTokenFile) };
    },
    client(who) {
      const c = new ServiceBusClient(emulatorNamespace(broker.namespace), who.credential, { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } });
      clients.push(c);
      return c;
    },
    bus(who, busOptions = {}) {
      const b = createServiceBusBus({
        fullyQualifiedNamespace: broker.namespace, credential: who.credential, developmentEmulator: true,
        sessionWaitMs: 1000, ...busOptions,
      } as CreateServiceBusBusOptions);
      buses.push(b);
      return b;
    },
    async stop() {
      await Promise.allSettled([...clients.map((c) => c.close()), ...buses.map((b) => b.close())]);
      await broker.stop();
      await identity.stop();
    },
  };
}
