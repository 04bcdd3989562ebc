// Bus port over @azure/service-bus 7.9.5 (Azure Service Bus, or the local broker via UseDevelopmentEmulator=true).
import type { TokenCredential } from '@azure/identity';
import {
  ServiceBusClient, type ServiceBusClientOptions, type ServiceBusMessage, type ServiceBusSender,
} from '@azure/service-bus';
import { KarsError } from '../../core/errors';
import {
  encodeBusBody, type AcceptSessionOptions, type Bus, type BusQueueReceiver, type BusSessionReceiver,
  type OpenReceiverOptions, type OutgoingBusMessage, type SendOptions,
} from '../../core/ports/bus.port';
import { createServiceBusHealthProbe, DEFAULT_HEALTH_TIMEOUT_MS } from './service-bus-health-probe';
import { wrapQueueReceiver, wrapSessionReceiver } from './service-bus-receivers';
import { translateServiceBusError } from './translate-service-bus-error';

export type ServiceBusTarget =
  | { connectionString: string }
  | {
    fullyQualifiedNamespace: string;
    credential: TokenCredential;
    /**
     * Local broker only (`<loopback host>:<port>`, plain TCP): Entra tokens over the emulator transport, so the
     * local broker checks the same tokens and roles as Service Bus (T1-E). Refused for any other host.
     */
    developmentEmulator?: boolean;
  };

const LOOPBACK_NAMESPACE = /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/;

/**
 * The SDK builds `Endpoint=sb://<namespace>/;…` from the namespace it is given; appending the emulator setting to it
 * is the one way to combine a TokenCredential with the plain-TCP transport (7.9.5 reads UseDevelopmentEmulator only
 * from a connection string). Loopback only: tokens never cross a network unencrypted.
 */
export function emulatorNamespace(namespace: string): string {
  if (!LOOPBACK_NAMESPACE.test(namespace)) throw new KarsError('CONFIG_INVALID', 'the development emulator must be a loopback <host>:<port>');
  return `${namespace};UseDevelopmentEmulator=true;KarsEmulator=/`;
}

export type CreateServiceBusBusOptions = ServiceBusTarget & {
  /**
   * How long acceptNextSession waits for a session with messages (Service Bus long-polls on the server; default
   * 5000 ms). It is the operation timeout of the client used for accept-next, so keep it at 1000 ms or more.
   */
  sessionWaitMs?: number;
  /** Per-attempt timeout of every other SDK operation (SDK default 60 s). */
  operationTimeoutMs?: number;
  /** SDK retries for transient failures (SDK default 3). */
  maxRetries?: number;
  /** Queue the health probe peeks (default `kars-health`; a missing queue still proves the namespace answers). */
  healthQueue?: string;
  /** Upper bound of one health check (default 2000 ms). */
  healthTimeoutMs?: number;
};

const DEFAULT_SESSION_WAIT_MS = 5000;

function makeClient(target: ServiceBusTarget, options: ServiceBusClientOptions): ServiceBusClient {
  return 'connectionString' in target
    ? new ServiceBusClient(target.connectionString, options)
    : new ServiceBusClient(
      target.developmentEmulator ? emulatorNamespace(target.fullyQualifiedNamespace) : target.fullyQualifiedNamespace,
      target.credential, options);
}

function toSdkMessage(message: OutgoingBusMessage): ServiceBusMessage {
  const { bytes, contentType } = encodeBusBody(message);
  const out: ServiceBusMessage = { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  if (message.messageId !== undefined) out.messageId = message.messageId;
  if (message.sessionId !== undefined) out.sessionId = message.sessionId;
  if (contentType !== undefined) out.contentType = contentType;
  if (message.applicationProperties) out.applicationProperties = { ...message.applicationProperties };
  return out;
}

/** Resolves with the promise, or rejects on abort; a value that arrives after the abort goes to `late`. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, late: (value: T) => void, what: string): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.then(late, () => {});
    return Promise.reject(new KarsError('DEPENDENCY_TIMEOUT', `${what}: aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      reject(new KarsError('DEPENDENCY_TIMEOUT', `${what}: aborted`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) late(v);
        else resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!aborted) reject(e);
      },
    );
  });
}

export function createServiceBusBus(options: CreateServiceBusBusOptions): Bus {
  const sessionWaitMs = options.sessionWaitMs ?? DEFAULT_SESSION_WAIT_MS;
  const retryOptions = {
    ...(options.operationTimeoutMs !== undefined ? { timeoutInMs: options.operationTimeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
  };
  const client = makeClient(options, { retryOptions });
  // acceptNextSession waits server-side for as long as the client's operation timeout, and is not retried by
  // the SDK; a second client with that timeout keeps it independent of the timeout of sends and settlements.
  let nextSessionClient: ServiceBusClient | undefined;
  // The probe's own connection gives up after one deadline, so an attempt started while the broker was down
  // cannot keep later checks waiting on the SDK's 60 s timeouts and retries once it is back.
  const healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const healthClient = makeClient(options, { retryOptions: { timeoutInMs: healthTimeoutMs, maxRetries: 0 } });
  const senders = new Map<string, ServiceBusSender>();
  let closed = false;

  const ensureOpen = (what: string): void => {
    if (closed) throw new KarsError('BUS_UNAVAILABLE', `${what}: the bus is closed`);
  };
  const senderFor = (queue: string): ServiceBusSender => {
    let sender = senders.get(queue);
    if (!sender) {
      sender = client.createSender(queue);
      senders.set(queue, sender);
    }
    return sender;
  };
  const receiverOptions = { maxAutoLockRenewalDurationInMs: 0, skipParsingBodyAsJson: true } as const;

  return {
    health: createServiceBusHealthProbe(healthClient, { queue: options.healthQueue ?? 'kars-health', timeoutMs: healthTimeoutMs }),

    async send(queue: string, messages: OutgoingBusMessage | readonly OutgoingBusMessage[], sendOptions: SendOptions = {}) {
      const what = `send to ${queue}`;
      ensureOpen(what);
      const list = (Array.isArray(messages) ? messages : [messages]) as readonly OutgoingBusMessage[];
      if (list.length === 0) return;
      const sdkMessages = list.map(toSdkMessage);
      try {
        // An array goes out as one batch transfer: accepted or refused as a whole.
        await senderFor(queue).sendMessages(sdkMessages.length === 1 ? sdkMessages[0]! : sdkMessages, {
          abortSignal: sendOptions.abortSignal,
        });
      } catch (e) {
        throw translateServiceBusError(e, what);
      }
    },

    async acceptSession(queue: string, sessionId: string, acceptOptions: AcceptSessionOptions = {}): Promise<BusSessionReceiver> {
      const what = `accept session on ${queue}`;
      ensureOpen(what);
      try {
        const receiver = await untilAborted(
          client.acceptSession(queue, sessionId, { ...receiverOptions, abortSignal: acceptOptions.abortSignal }),
          acceptOptions.abortSignal, (r) => void r.close().catch(() => {}), what);
        return wrapSessionReceiver(receiver, queue);
      } catch (e) {
        throw translateServiceBusError(e, what);
      }
    },

    async acceptNextSession(queue: string, acceptOptions: AcceptSessionOptions = {}): Promise<BusSessionReceiver | undefined> {
      const what = `accept next session on ${queue}`;
      ensureOpen(what);
      nextSessionClient ??= makeClient(options, { retryOptions: { ...retryOptions, timeoutInMs: sessionWaitMs } });
      try {
        const receiver = await untilAborted(
          nextSessionClient.acceptNextSession(queue, { ...receiverOptions, abortSignal: acceptOptions.abortSignal }),
          acceptOptions.abortSignal, (r) => void r.close().catch(() => {}), what);
        return wrapSessionReceiver(receiver, queue);
      } catch (e) {
        // Service Bus answers "no session became available" with a timeout on the attach.
        const code = (e as { code?: unknown }).code;
        if (code === 'ServiceTimeout' || code === 'SessionCannotBeLocked') return undefined;
        throw translateServiceBusError(e, what);
      }
    },

    async openReceiver(queue: string, openOptions: OpenReceiverOptions = {}): Promise<BusQueueReceiver> {
      const label = openOptions.deadLetter ? `${queue}/$DeadLetterQueue` : queue;
      ensureOpen(`open receiver on ${label}`);
      const receiver = client.createReceiver(queue, {
        ...receiverOptions,
        receiveMode: 'peekLock',
        ...(openOptions.deadLetter ? { subQueueType: 'deadLetter' as const } : {}),
      });
      return wrapQueueReceiver(receiver, label);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...senders.values()].map((s) => s.close()));
      await Promise.allSettled([client.close(), nextSessionClient?.close(), healthClient.close()]);
    },
  };
}
