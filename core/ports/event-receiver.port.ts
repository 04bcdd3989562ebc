// The router's receiver of its own sandbox's inbound events (Service Bus: the sandbox's entity, session = sandbox id).
// Peek-lock only: a message leaves the broker when the router completes it after the agent's ack (T1-E: the entity and
// session come from the router's settings, never from the agent).
import type { ReceivedBusMessage } from './bus.port';

export interface EventReceiveOptions {
  /** How long to wait for the first message; resolves with [] when none came. */
  maxWaitMs: number;
  abortSignal?: AbortSignal;
}

export interface EventReceiver {
  /** Up to `maxMessages` messages, locked for this receiver. @throws KarsError BUS_UNAVAILABLE | BUS_QUEUE_NOT_FOUND */
  receive(maxMessages: number, options: EventReceiveOptions): Promise<ReceivedBusMessage[]>;
  /** Removes the message. @throws KarsError BUS_LOCK_LOST (the broker will deliver it again) | BUS_UNAVAILABLE */
  complete(message: ReceivedBusMessage): Promise<void>;
  /** Gives the message back with deliveryCount + 1; the broker dead-letters it past its maxDeliveryCount. @throws BUS_LOCK_LOST */
  abandon(message: ReceivedBusMessage): Promise<void>;
  /** Moves a message that can never be handed out (not an event of this sandbox) to the dead-letter queue. @throws BUS_LOCK_LOST */
  deadLetter(message: ReceivedBusMessage, reason: string): Promise<void>;
  /** Extends the lock the message is held under; returns its new end (ms since epoch). @throws BUS_LOCK_LOST */
  renewLock(message: ReceivedBusMessage): Promise<number>;
  /** Releases the receiver; messages still locked go back to the broker. */
  close(): Promise<void>;
}
