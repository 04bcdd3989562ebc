// Local Service Bus stand-in: starts the broker (journal replay, listener) and returns its connection string.
import type { Logger } from '../../../core/ports/logger.port';
import { AmqpListener } from './broker';
import { Journal } from './journal';
import type { QueueOptions } from './queue-options';
import { QueueStore } from './queue-store';

export type { QueueOptions } from './queue-options';

export interface StartServiceBusBrokerOptions {
  /** Interface to bind (default 127.0.0.1: the broker does not check SAS tokens, keep it off the network). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Queues created at start; others are created on first use unless `strictQueues`. */
  queues?: QueueOptions[];
  /** When set, accepted messages and settlements are journaled (fsync before acknowledging) and replayed at start. */
  dataDir?: string;
  /** Refuse unknown queues with amqp:not-found (MessagingEntityNotFound), as Service Bus does. */
  strictQueues?: boolean;
  logger?: Logger;
}

export interface ServiceBusBrokerHandle {
  port: number;
  /** `Endpoint=sb://127.0.0.1:<port>;...;UseDevelopmentEmulator=true`: plain TCP, accepted by @azure/service-bus. */
  connectionString: string;
  stop(): Promise<void>;
}

// The same placeholder key the official emulator documents; the broker accepts any token.
const DEV_KEY = 'SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE';

export function localServiceBusConnectionString(host: string, port: number): string {
  return `Endpoint=sb://${host}:${port};${DEV_KEY};UseDevelopmentEmulator=true`;
}

export async function startServiceBusBroker(options: StartServiceBusBrokerOptions = {}): Promise<ServiceBusBrokerHandle> {
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
    store = new QueueStore({ queues: options.queues, strictQueues: options.strictQueues, journal, onBackgroundError: reportError });
    store.replay(opened.records);
    // Compact: the file restarts from the live state, so it does not grow across restarts.
    await journal.rewrite(store.snapshot());
  } else {
    store = new QueueStore({ queues: options.queues, strictQueues: options.strictQueues, onBackgroundError: reportError });
  }
  let listener: AmqpListener;
  try {
    listener = await AmqpListener.listen(store, { host, port: options.port ?? 0 }, reportError);
  } catch (e) {
    store.close();
    await journal?.close();
    throw e;
  }
  const port = listener.port;
  const advertisedHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  logger?.info('servicebus.broker.listening', { port, url: `sb://${advertisedHost}:${port}` });
  let stopping: Promise<void> | undefined;
  return {
    port,
    connectionString: localServiceBusConnectionString(advertisedHost, port),
    stop: () => {
      stopping ??= (async () => {
        store.close();
        await listener.close();
        await journal?.close();
      })();
      return stopping;
    },
  };
}
