// Local Service Bus stand-in: starts the broker (journal replay, listener) and returns its connection string.
import type { Logger } from '../../../core/ports/logger.port';
import type { AccessTokenVerifier } from '../identity/access-token-verifier';
import { startBrokerAdminServer, type BrokerAdminServer } from './admin-server';
import { AmqpListener, type BrokerAccess } from './broker';
import { AuthorizationTable, type RoleAssignment } from './broker-authorization';
import { SERVICE_BUS_AUDIENCE, type CbsTokenVerifier } from './cbs';
import { Journal } from './journal';
import type { QueueOptions } from './queue-options';
import { QueueStore } from './queue-store';

export type { QueueOptions } from './queue-options';

/**
 * T1-E. `verify`: Entra tokens from the local identity stand-in are checked on $cbs and every link needs a role on its
 * entity (the stack's mode). `'dev-allow-all'`: no token or role checks, for tests of the queue mechanics only; there
 * is no default, so every caller says which one it runs.
 */
export type BrokerAuthorizationOptions =
  | { verifyAccessToken: AccessTokenVerifier; roleAssignments?: readonly RoleAssignment[] }
  | 'dev-allow-all';

export interface StartServiceBusBrokerOptions {
  /** Interface to bind (default 127.0.0.1: a dev tool, plain TCP without TLS; keep it off the network). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Queues created at start; others are created on first use unless `strictQueues`. */
  queues?: QueueOptions[];
  /** When set, accepted messages and settlements are journaled (fsync before acknowledging) and replayed at start. */
  dataDir?: string;
  /** Refuse unknown queues with amqp:not-found (MessagingEntityNotFound), as Service Bus does. */
  strictQueues?: boolean;
  /** Settings of the queues created on first use when not strict (default: Service Bus's queue defaults). */
  autoCreateQueue?: Omit<QueueOptions, 'name'>;
  logger?: Logger;
  authorization: BrokerAuthorizationOptions;
  /** Serve the management API (admin-server.ts) behind this key; omitted: no management endpoint. */
  adminKey?: string;
  /** Port of the management API (0, the default, picks a free one). */
  adminPort?: number;
}

export interface ServiceBusBrokerHandle {
  port: number;
  /** `Endpoint=sb://127.0.0.1:<port>;...;UseDevelopmentEmulator=true`: plain TCP, accepted by @azure/service-bus. */
  connectionString: string;
  /** `<host>:<port>` for ServiceBusClient(namespace, credential) over the emulator transport (plain TCP). */
  namespace: string;
  /** The role assignments in force (undefined in dev-allow-all mode); tests may change them in-process. */
  authorization: AuthorizationTable | undefined;
  /** Base URL of the management API, when an admin key was given. */
  adminUrl: string | undefined;
  stop(): Promise<void>;
}

/** Checks a CBS token as Service Bus checks an Entra token: signature, issuer, audience, expiry; principal = oid. */
function cbsVerifierOf(verifyAccessToken: AccessTokenVerifier): CbsTokenVerifier {
  return async (token) => {
    const r = await verifyAccessToken(token, SERVICE_BUS_AUDIENCE);
    if (!r.ok) return { ok: false, reason: r.code };
    const { oid, exp } = r.value;
    if (typeof oid !== 'string' || oid === '' || typeof exp !== 'number') return { ok: false, reason: 'TOKEN_CLAIMS' };
    return { ok: true, principalId: oid, expSec: exp };
  };
}

// The same placeholder key the official emulator documents; SAS tokens only pass in dev-allow-all mode.
const DEV_KEY = 'SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE';

export function localServiceBusConnectionString(host: string, port: number): string {
  return `Endpoint=sb://${host}:${port};${DEV_KEY};UseDevelopmentEmulator=true`;
}

export async function startServiceBusBroker(options: StartServiceBusBrokerOptions): Promise<ServiceBusBrokerHandle> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger;
  const reportError = (e: unknown): void => {
    logger?.error('servicebus.broker.error', { detail: e instanceof Error ? e.message : String(e) });
  };
  let journal: Journal | undefined;
  let store: QueueStore;
  if (options.dataDir) {
    const opened = await Journal.open(options.dataDir);
    journal = opened.journal;
    store = new QueueStore({ queues: options.queues, strictQueues: options.strictQueues, autoCreateQueue: options.autoCreateQueue, journal, onBackgroundError: reportError });
    store.replay(opened.records);
    // Compact: the file restarts from the live state, so it does not grow across restarts.
    await journal.rewrite(store.snapshot());
  } else {
    store = new QueueStore({ queues: options.queues, strictQueues: options.strictQueues, autoCreateQueue: options.autoCreateQueue, onBackgroundError: reportError });
  }
  const authz = options.authorization;
  if (authz === undefined) throw new TypeError('"authorization" is required (a verifier, or \'dev-allow-all\' by name)');
  const table = authz === 'dev-allow-all' ? undefined : new AuthorizationTable(authz.roleAssignments ?? []);
  const access: BrokerAccess = authz === 'dev-allow-all'
    ? { mode: 'dev-allow-all' }
    : {
      mode: 'verify', verify: cbsVerifierOf(authz.verifyAccessToken), table: table!,
      onRejected: (what, reason) => logger?.warn('servicebus.unauthorized', { name: what, reason }),
    };
  let listener: AmqpListener | undefined;
  let admin: BrokerAdminServer | undefined;
  try {
    listener = await AmqpListener.listen(store, { host, port: options.port ?? 0 }, reportError, access);
    if (options.adminKey !== undefined) {
      if (!table) throw new TypeError('the management API needs an authorization table (not dev-allow-all)');
      admin = await startBrokerAdminServer({ store, table, adminKey: options.adminKey, port: options.adminPort ?? 0, ...(logger ? { logger } : {}) });
    }
  } catch (e) {
    store.close();
    await listener?.close();
    await journal?.close();
    throw e;
  }
  const amqp = listener;
  const port = amqp.port;
  const advertisedHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  logger?.info('servicebus.broker.listening', { port, url: `sb://${advertisedHost}:${port}` });
  let stopping: Promise<void> | undefined;
  return {
    port,
    connectionString: localServiceBusConnectionString(advertisedHost, port),
    namespace: `${advertisedHost}:${port}`,
    authorization: table,
    adminUrl: admin?.url,
    stop: () => {
      stopping ??= (async () => {
        await admin?.stop();
        store.close();
        await amqp.close();
        await journal?.close();
      })();
      return stopping;
    },
  };
}
