// Local Service Bus stand-in: a client's receiver link (peek-lock or receive-and-delete, plain or session).
import type { Delivery, EventContext, Sender, Session } from 'rhea';
import { asBrokerError, BrokerError, CONDITION, lockTokenOfTag, ticksLong } from './amqp-values';
import type { Consumer, Entity } from './queue-entities';
import type { QueueStore, Settlement } from './queue-store';
import {
  holdAttach, linkCredit, outcomeState, localAttach, nextUntransferredDeliveryId, outgoingSpace, releaseAttach, remoteProperties,
  remoteSettleModes, remoteSource, remoteTarget, settleOutgoing,
} from './rhea-internals';

export const MAX_MESSAGE_SIZE_BYTES = 1024 * 1024;
const SESSION_FILTER = 'com.microsoft:session-filter';
const LOCKED_UNTIL = 'com.microsoft:locked-until-utc';
// Service Bus caps the accept-next-session wait at 65 s unless the client asks for longer.
const DEFAULT_ACCEPT_NEXT_TIMEOUT_MS = 65_000;

export class ConsumerLink implements Consumer {
  readonly receiveAndDelete: boolean;
  readonly sessionful: boolean;
  sessionId: string | undefined;
  private queued: Delivery[] = [];
  private held = false;
  private closed = false;

  private constructor(
    private readonly store: QueueStore,
    private readonly entity: Entity,
    private readonly link: Sender,
    readonly connectionId: string,
    private readonly onGone: (c: ConsumerLink) => void,
  ) {
    this.receiveAndDelete = remoteSettleModes(link).snd === 1;
    const filter = remoteSource(link)?.filter;
    this.sessionful = !!filter && Object.prototype.hasOwnProperty.call(filter, SESSION_FILTER);
  }

  /**
   * Answers a client's receiver attach. Errors (unknown queue, session mismatch, session locked) are sent as
   * an attach followed by a detach carrying the Service Bus condition, which is how the SDK expects them.
   */
  static open(store: QueueStore, link: Sender, connectionId: string, onGone: (c: ConsumerLink) => void): ConsumerLink | undefined {
    const source = remoteSource(link);
    const address = source?.address ?? '';
    const attach = localAttach(link);
    link.set_target({ address: remoteTarget(link)?.address ?? '' });
    link.set_source({ address });
    attach.max_message_size = MAX_MESSAGE_SIZE_BYTES;
    const modes = remoteSettleModes(link);
    attach.snd_settle_mode = modes.snd;
    attach.rcv_settle_mode = modes.rcv;
    let entity: Entity;
    try {
      entity = store.entityForAddress(address);
    } catch (e) {
      link.close(asBrokerError(e).toAmqp());
      return undefined;
    }
    const consumer = new ConsumerLink(store, entity, link, connectionId, onGone);
    try {
      consumer.start();
    } catch (e) {
      consumer.closed = true;
      link.close(asBrokerError(e).toAmqp());
      return undefined;
    }
    return consumer;
  }

  private start(): void {
    const { entity, link } = this;
    if (entity.requiresSession && !this.sessionful) {
      throw new BrokerError(CONDITION.notAllowed,
        `It is not possible for an entity that requires sessions to create a non-sessionful message receiver (${entity.name}).`);
    }
    if (!entity.requiresSession && this.sessionful) {
      throw new BrokerError(CONDITION.notAllowed,
        `It is not possible for an entity that does not require sessions to create a session receiver (${entity.name}).`);
    }
    link.on('sender_flow', () => this.store.pump(entity));
    // Also when the session's delivery buffer frees up again.
    link.on('sendable', () => this.store.pump(entity));
    link.on('sender_draining', () => {
      this.store.pump(entity);
      link.set_drained(true);
    });
    link.on('accepted', (ctx: EventContext) => this.onOutcome(ctx, { kind: 'complete' }));
    link.on('released', (ctx: EventContext) => this.onOutcome(ctx, { kind: 'abandon' }));
    link.on('modified', (ctx: EventContext) => {
      const state = ctx.delivery?.remote_state as { undeliverable_here?: boolean } | undefined;
      this.onOutcome(ctx, state?.undeliverable_here ? { kind: 'defer' } : { kind: 'abandon' });
    });
    link.on('rejected', (ctx: EventContext) => {
      const error = (ctx.delivery?.remote_state as { error?: { info?: Record<string, unknown> } } | undefined)?.error;
      const { DeadLetterReason, DeadLetterErrorDescription, ...properties } = error?.info ?? {};
      this.onOutcome(ctx, {
        kind: 'deadLetter',
        reason: typeof DeadLetterReason === 'string' ? DeadLetterReason : undefined,
        description: typeof DeadLetterErrorDescription === 'string' ? DeadLetterErrorDescription : undefined,
        properties,
      });
    });
    link.on('sender_close', () => this.gone());
    link.on('sender_error', () => {});

    if (this.sessionful) {
      const requested = remoteSource(link)?.filter?.[SESSION_FILTER];
      if (typeof requested === 'string') {
        this.respondWithSession(this.store.sessions.lockSpecific(entity, requested, this));
      } else {
        const timeout = remoteProperties(link)['com.microsoft:timeout'];
        const timeoutMs = typeof timeout === 'number' && timeout > 0 ? timeout : DEFAULT_ACCEPT_NEXT_TIMEOUT_MS;
        holdAttach(link);
        this.held = true;
        this.store.sessions.waitForNext(entity, this, timeoutMs, (sessionId) => {
          if (this.closed) return;
          if (sessionId === undefined) {
            this.fail(new BrokerError(CONDITION.timeout, 'No unlocked session with messages became available in time.'));
            return;
          }
          const group = entity.group(sessionId, false);
          this.respondWithSession(group?.owner?.lockedUntilMs ?? this.store.now());
        });
      }
    }
    this.store.addConsumer(entity, this);
  }

  private respondWithSession(lockedUntilMs: number): void {
    const attach = localAttach(this.link);
    this.link.set_source({ address: remoteSource(this.link)?.address ?? '', filter: { [SESSION_FILTER]: this.sessionId } });
    attach.properties = { ...(attach.properties ?? {}), [LOCKED_UNTIL]: ticksLong(lockedUntilMs) };
    if (this.held) {
      this.held = false;
      releaseAttach(this.link);
    }
  }

  availableCredit(): number {
    if (this.closed || this.held || !this.link.is_open()) return 0;
    const next = nextUntransferredDeliveryId(this.link);
    // rhea charges credit only when it writes a transfer, so deliveries queued this tick still count against it.
    this.queued = this.queued.filter((d) => d.id >= next);
    return Math.max(0, Math.min(linkCredit(this.link) - this.queued.length, outgoingSpace(this.link)));
  }

  deliver(payload: Buffer, tag: Buffer | undefined): Delivery | undefined {
    const delivery = this.link.send(payload, tag, 0);
    this.queued.push(delivery);
    return delivery;
  }

  fail(error: BrokerError): void {
    if (this.closed) return;
    if (this.held) {
      this.held = false;
      releaseAttach(this.link);
    }
    this.gone();
    this.link.close(error.toAmqp());
  }

  onSession(session: Session): boolean {
    return this.link.session === session;
  }

  /** The connection or AMQP session ended without a detach. */
  disconnected(): void {
    this.gone();
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.held) {
      // Answer the attach before rhea sends the detach, so the client sees a well-formed exchange.
      this.held = false;
      releaseAttach(this.link);
    }
    this.store.removeConsumer(this.entity, this);
    this.onGone(this);
  }

  private onOutcome(ctx: EventContext, settlement: Settlement): void {
    const delivery = ctx.delivery;
    if (!delivery || delivery.remote_settled || this.receiveAndDelete) return;
    const tag = typeof delivery.tag === 'string' ? Buffer.from(delivery.tag) : delivery.tag;
    this.store.settle(lockTokenOfTag(tag), settlement).then(
      () => this.answer(delivery, settlementState(settlement)),
      (e: unknown) => this.answer(delivery, outcomeState('rejected', { error: asBrokerError(e).toAmqp() })),
    );
  }

  private answer(delivery: Delivery, state: unknown): void {
    try {
      // The SDK receives in rcv-settle-mode second: it waits for the broker to settle its disposition.
      if (this.link.is_open()) settleOutgoing(delivery, state);
    } catch {
      // the link went away meanwhile; the client sees its own timeout or link error
    }
  }
}

function settlementState(s: Settlement): unknown {
  switch (s.kind) {
    case 'complete':
      return outcomeState('accepted');
    case 'abandon':
    case 'defer':
      return outcomeState('released');
    case 'deadLetter':
      // No error in the outcome: the SDK treats an error there as a failed settlement.
      return outcomeState('rejected');
  }
}
