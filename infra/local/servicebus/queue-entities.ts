// Local Service Bus stand-in: the in-memory model of queues, sessions and messages that the queue store and the
// session locks share (kept apart from both so neither has to import the other).
import type { Delivery, Message } from 'rhea';
import type { BrokerError } from './amqp-values';
import type { ResolvedQueueOptions } from './queue-options';

/** A receiving link as the store sees it (implemented by consumer-link.ts). */
export interface Consumer {
  readonly connectionId: string;
  readonly receiveAndDelete: boolean;
  /** True for links opened with a session filter; they receive only from `sessionId` once it is locked. */
  readonly sessionful: boolean;
  sessionId: string | undefined;
  /** Deliveries the link may still take (link credit not yet used). */
  availableCredit(): number;
  /** Transfers one encoded message; peek-lock deliveries carry their 16-byte lock tag. */
  deliver(payload: Buffer, tag: Buffer | undefined): Delivery | undefined;
  /** Detaches the link with an error (used when a session lock expires). */
  fail(error: BrokerError): void;
}

export interface StoredMessage {
  readonly seq: number;
  readonly enqueuedAtMs: number;
  readonly messageId: string;
  readonly sessionId: string | undefined;
  /** The message as the sender encoded it, plus the message id the broker assigned if it had none. */
  readonly message: Message;
  /** Deliveries so far; the SDK sees the count of earlier deliveries (0 on the first). */
  deliveryCount: number;
  lock: LockEntry | undefined;
}

export interface LockEntry {
  readonly token: string;
  readonly tag: Buffer;
  readonly entity: Entity;
  readonly message: StoredMessage;
  readonly consumer: Consumer;
  delivery: Delivery | undefined;
  lockedUntilMs: number;
  timer: NodeJS.Timeout | undefined;
}

export interface SessionOwner {
  readonly consumer: Consumer;
  lockedUntilMs: number;
  timer: NodeJS.Timeout | undefined;
}

/** The messages of one session (or, for a queue without sessions, of the whole queue under key ''). */
export class MessageGroup {
  /** Unlocked messages, ascending sequence number: sessions are delivered in order. */
  readonly available: StoredMessage[] = [];
  readonly locked = new Set<StoredMessage>();
  owner: SessionOwner | undefined;
  state: Buffer | null = null;
  constructor(readonly id: string) {}
}

export class Entity {
  readonly groups = new Map<string, MessageGroup>();
  readonly messages = new Map<number, StoredMessage>();
  readonly consumers = new Set<Consumer>();
  /** message id → end of its duplicate-detection window; insertion order is expiry order. */
  readonly dupIds = new Map<string, number>();
  nextSeq = 1;
  deadLetter: Entity | undefined;

  constructor(
    readonly key: string,
    public options: ResolvedQueueOptions,
    readonly parent: Entity | undefined,
  ) {}

  get isDeadLetter(): boolean {
    return this.parent !== undefined;
  }
  get name(): string {
    return this.parent ? `${this.parent.name}/$DeadLetterQueue` : this.options.name;
  }
  get requiresSession(): boolean {
    return !this.parent && this.options.requiresSession;
  }
  group(sessionId: string | undefined, create: boolean): MessageGroup | undefined {
    const key = this.requiresSession ? (sessionId ?? '') : '';
    let g = this.groups.get(key);
    if (!g && create) {
      g = new MessageGroup(key);
      this.groups.set(key, g);
    }
    return g;
  }
}
