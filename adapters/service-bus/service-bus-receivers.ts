// Bus port receivers over the SDK's peek-lock receivers (queue, dead-letter queue, session).
import type { ServiceBusReceivedMessage, ServiceBusReceiver, ServiceBusSessionReceiver } from '@azure/service-bus';
import { KarsError } from '../../core/errors';
import type {
  BusQueueReceiver, BusReceiver, BusSessionReceiver, DeadLetterOptions, ReceiveOptions, ReceivedBusMessage,
} from '../../core/ports/bus.port';
import { toReceivedBusMessage } from './to-received-message';
import { translateServiceBusError } from './translate-service-bus-error';

const DEFAULT_RECEIVE_WAIT_MS = 1000;
// An unsettled message is forgotten this long after its lock ended (the caller can no longer settle it anyway).
const FORGET_AFTER_MS = 60_000;

function checkMaxMessages(maxMessages: number): void {
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw new RangeError(`"maxMessages" expected a positive integer, got ${maxMessages}`);
  }
}

/** The SDK needs its own message object to settle; the port hands out plain records keyed by lock token. */
class HeldMessages {
  private readonly byToken = new Map<string, ServiceBusReceivedMessage>();

  /** @param lockEndMs when a held message's lock ends (a session's messages: the session lock, renewed as a whole) */
  constructor(private readonly lockEndMs: (m: ServiceBusReceivedMessage) => number | undefined = (m) => m.lockedUntilUtc?.getTime()) {}

  remember(m: ServiceBusReceivedMessage): ReceivedBusMessage {
    const received = toReceivedBusMessage(m);
    if (received.lockToken) this.byToken.set(received.lockToken, m);
    return received;
  }

  /** @throws KarsError BUS_LOCK_LOST when the message is not held by this receiver (settled, or never received here) */
  get(message: ReceivedBusMessage, what: string): ServiceBusReceivedMessage {
    const m = this.byToken.get(message.lockToken);
    if (!m) throw new KarsError('BUS_LOCK_LOST', `${what}: the message is not locked by this receiver`);
    return m;
  }

  forget(message: ReceivedBusMessage): void {
    this.byToken.delete(message.lockToken);
  }

  prune(nowMs: number): void {
    for (const [token, m] of this.byToken) {
      const end = this.lockEndMs(m);
      if (end !== undefined && end + FORGET_AFTER_MS < nowMs) this.byToken.delete(token);
    }
  }

  clear(): void {
    this.byToken.clear();
  }
}

type SdkReceiver = ServiceBusReceiver | ServiceBusSessionReceiver;

function baseReceiver(receiver: SdkReceiver, label: string, held: HeldMessages): BusReceiver {
  const settle = async (
    message: ReceivedBusMessage, verb: string, op: (m: ServiceBusReceivedMessage) => Promise<void>,
  ): Promise<void> => {
    const what = `${verb} on ${label}`;
    const m = held.get(message, what);
    try {
      await op(m);
      held.forget(message);
    } catch (e) {
      const err = translateServiceBusError(e, what);
      if (err.code === 'BUS_LOCK_LOST') held.forget(message);
      throw err;
    }
  };
  return {
    async receive(maxMessages: number, options: ReceiveOptions = {}): Promise<ReceivedBusMessage[]> {
      checkMaxMessages(maxMessages);
      held.prune(Date.now());
      try {
        const messages = await receiver.receiveMessages(maxMessages, {
          maxWaitTimeInMs: options.maxWaitMs ?? DEFAULT_RECEIVE_WAIT_MS,
          abortSignal: options.abortSignal,
        });
        return messages.map((m) => held.remember(m));
      } catch (e) {
        throw translateServiceBusError(e, `receive from ${label}`);
      }
    },
    complete: (message) => settle(message, 'complete', (m) => receiver.completeMessage(m)),
    abandon: (message) => settle(message, 'abandon', (m) => receiver.abandonMessage(m)),
    deadLetter: (message, options: DeadLetterOptions) =>
      settle(message, 'dead-letter', (m) => receiver.deadLetterMessage(m, {
        deadLetterReason: options.reason,
        deadLetterErrorDescription: options.description ?? '',
      })),
    async close(): Promise<void> {
      held.clear();
      try {
        await receiver.close();
      } catch (e) {
        throw translateServiceBusError(e, `close receiver on ${label}`);
      }
    },
  };
}

export function wrapQueueReceiver(receiver: ServiceBusReceiver, label: string): BusQueueReceiver {
  const held = new HeldMessages();
  const base = baseReceiver(receiver, label, held);
  return {
    ...base,
    async renewLock(message: ReceivedBusMessage): Promise<number> {
      const what = `renew message lock on ${label}`;
      const m = held.get(message, what);
      try {
        return (await receiver.renewMessageLock(m)).getTime();
      } catch (e) {
        const err = translateServiceBusError(e, what);
        if (err.code === 'BUS_LOCK_LOST') held.forget(message);
        throw err;
      }
    },
  };
}

export function wrapSessionReceiver(receiver: ServiceBusSessionReceiver, label: string): BusSessionReceiver {
  // A session's messages stay locked for as long as the session lock is renewed, past their own lockedUntilUtc.
  const held = new HeldMessages(() => receiver.sessionLockedUntilUtc?.getTime());
  const base = baseReceiver(receiver, `${label} session ${receiver.sessionId}`, held);
  return {
    ...base,
    sessionId: receiver.sessionId,
    get lockedUntilMs(): number {
      return receiver.sessionLockedUntilUtc?.getTime() ?? 0;
    },
    async renewLock(): Promise<number> {
      try {
        return (await receiver.renewSessionLock()).getTime();
      } catch (e) {
        throw translateServiceBusError(e, `renew session lock on ${label}`);
      }
    },
  };
}
