// Message delivery between the Function app and sandboxes: queues with sessions (per-sandbox order), peek-lock.
import type { HealthProbe } from './health-probe.port';
import type { JsonValue } from '../json/json-value';

export type BusPropertyValue = string | number | boolean;

export interface OutgoingBusMessage {
  /** Bytes go out as they are; any other value goes out as UTF-8 JSON (content type application/json unless set). */
  body: Uint8Array | JsonValue;
  /** Duplicate-detection key: a second send with the same id inside the queue's window is dropped by the broker. */
  messageId?: string;
  /** Messages with one session id are delivered in order, to one receiver at a time. Session queues require it. */
  sessionId?: string;
  contentType?: string;
  applicationProperties?: Readonly<Record<string, BusPropertyValue>>;
}

export interface ReceivedBusMessage {
  readonly messageId: string;
  readonly sessionId: string | undefined;
  readonly contentType: string | undefined;
  /** Always bytes: a JSON body is not parsed for you (see `busJson`). */
  readonly body: Uint8Array;
  readonly applicationProperties: Readonly<Record<string, BusPropertyValue>>;
  /** Earlier deliveries of this message: 0 on the first, +1 after each abandon or lock expiry. */
  readonly deliveryCount: number;
  readonly sequenceNumber: number;
  readonly enqueuedAtMs: number;
  /** The peek-lock this delivery holds; settling needs it to be still valid. */
  readonly lockToken: string;
  readonly lockedUntilMs: number;
  /** Set on messages read from a dead-letter queue. */
  readonly deadLetterReason: string | undefined;
  readonly deadLetterDescription: string | undefined;
}

export interface SendOptions {
  abortSignal?: AbortSignal;
}

export interface ReceiveOptions {
  /** How long to wait for the first message (default 1000 ms); resolves with [] when none came. */
  maxWaitMs?: number;
  abortSignal?: AbortSignal;
}

export interface DeadLetterOptions {
  reason: string;
  description?: string;
}

export interface AcceptSessionOptions {
  abortSignal?: AbortSignal;
}

export interface OpenReceiverOptions {
  /** Read the queue's dead-letter queue instead of the queue. */
  deadLetter?: boolean;
}

/** Peek-lock receiver: every received message must be completed, abandoned or dead-lettered before its lock ends. */
export interface BusReceiver {
  /** Up to `maxMessages` messages, locked for this receiver. @throws KarsError BUS_UNAVAILABLE */
  receive(maxMessages: number, options?: ReceiveOptions): Promise<ReceivedBusMessage[]>;
  /** Removes the message. @throws KarsError BUS_LOCK_LOST when the lock (message or session) has expired */
  complete(message: ReceivedBusMessage): Promise<void>;
  /** Makes the message available again with deliveryCount + 1 (dead-lettered past the queue's maximum). @throws BUS_LOCK_LOST */
  abandon(message: ReceivedBusMessage): Promise<void>;
  /** Moves the message to the dead-letter queue with a reason. @throws BUS_LOCK_LOST */
  deadLetter(message: ReceivedBusMessage, options: DeadLetterOptions): Promise<void>;
  close(): Promise<void>;
}

/** Receiver for a queue without sessions (or a dead-letter queue): locks are per message. */
export interface BusQueueReceiver extends BusReceiver {
  /** Extends the message's lock; returns the new lockedUntilMs. @throws BUS_LOCK_LOST */
  renewLock(message: ReceivedBusMessage): Promise<number>;
}

/** Receiver holding one session's lock; the session's messages are locked with it. */
export interface BusSessionReceiver extends BusReceiver {
  readonly sessionId: string;
  /** Current end of the session lock (moves forward on renewLock). */
  readonly lockedUntilMs: number;
  /** Extends the session lock; returns the new lockedUntilMs. @throws BUS_LOCK_LOST */
  renewLock(): Promise<number>;
}

export interface Bus {
  /**
   * Sends one or several messages to a queue. Resolves only once the broker accepted them (durable); several
   * messages are accepted or refused together.
   * @throws KarsError BUS_UNAVAILABLE | BUS_QUEUE_NOT_FOUND | BUS_MESSAGE_TOO_LARGE | DEPENDENCY_TIMEOUT (aborted)
   */
  send(queue: string, messages: OutgoingBusMessage | readonly OutgoingBusMessage[], options?: SendOptions): Promise<void>;
  /** Locks the named session (it may be empty). @throws KarsError BUS_SESSION_LOCKED when another receiver holds it */
  acceptSession(queue: string, sessionId: string, options?: AcceptSessionOptions): Promise<BusSessionReceiver>;
  /**
   * Locks the next unlocked session that has messages, waiting up to the adapter's session wait; undefined when
   * none became available.
   */
  acceptNextSession(queue: string, options?: AcceptSessionOptions): Promise<BusSessionReceiver | undefined>;
  /** Receiver for a queue without sessions, or for any queue's dead-letter queue. */
  openReceiver(queue: string, options?: OpenReceiverOptions): Promise<BusQueueReceiver>;
  /** Fails fast (within ~2 s, or sooner on abort) when the broker does not answer. */
  readonly health: HealthProbe;
  close(): Promise<void>;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes and content type a body goes out with; shared by every adapter so they cannot drift. */
export function encodeBusBody(message: OutgoingBusMessage): { bytes: Uint8Array; contentType: string | undefined } {
  if (message.body instanceof Uint8Array) return { bytes: message.body, contentType: message.contentType };
  return { bytes: utf8.encode(JSON.stringify(message.body)), contentType: message.contentType ?? 'application/json' };
}

/** Parses a received JSON body. @throws SyntaxError/TypeError when the body is not UTF-8 JSON */
export function busJson(message: ReceivedBusMessage): JsonValue {
  return JSON.parse(utf8Decoder.decode(message.body)) as JsonValue;
}
