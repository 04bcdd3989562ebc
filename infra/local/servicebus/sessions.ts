// Local Service Bus stand-in: session locks (one receiver per session, accept-next, renewal, expiry, state).
import { BrokerError, CONDITION } from './amqp-values';
import type { JournalRecord } from './journal';
import type { Consumer, Entity, LockEntry, MessageGroup } from './queue-entities';

/** The part of the queue store the session locks use (QueueStore implements it). */
export interface SessionStore {
  now(): number;
  allEntities(): Iterable<Entity>;
  lockedBy(group: MessageGroup, consumer: Consumer): LockEntry[];
  release(entry: LockEntry): JournalRecord[];
  dropGroupIfIdle(entity: Entity, group: MessageGroup): void;
  /** Resolves once the records are durable. */
  persist(records: JournalRecord[]): Promise<void>;
  persistInBackground(records: JournalRecord[]): void;
}

interface Waiter {
  readonly entity: Entity;
  readonly consumer: Consumer;
  readonly timer: NodeJS.Timeout;
  readonly onResult: (sessionId: string | undefined) => void;
}

export class SessionLocks {
  private waiters: Waiter[] = [];

  constructor(private readonly store: SessionStore) {}

  /**
   * Locks a named session for `consumer` (an empty session may be locked too, as in Service Bus).
   * @throws BrokerError session-cannot-be-locked when another receiver holds it
   */
  lockSpecific(entity: Entity, sessionId: string, consumer: Consumer): number {
    const group = entity.group(sessionId, true)!;
    if (group.owner && group.owner.consumer !== consumer) {
      throw new BrokerError(CONDITION.sessionCannotBeLocked,
        `The requested session '${sessionId}' cannot be accepted. It may be locked by another receiver.`);
    }
    return this.lock(entity, group, consumer);
  }

  /**
   * Locks the unlocked session whose oldest message is oldest, now or as soon as one appears; reports
   * `undefined` after `timeoutMs` (the SDK's com.microsoft:timeout attach property).
   */
  waitForNext(entity: Entity, consumer: Consumer, timeoutMs: number, onResult: (sessionId: string | undefined) => void): void {
    const group = this.pickAvailable(entity);
    if (group) {
      this.lock(entity, group, consumer);
      onResult(group.id);
      return;
    }
    const timer = setTimeout(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      onResult(undefined);
    }, timeoutMs);
    timer.unref();
    const waiter: Waiter = { entity, consumer, timer, onResult };
    this.waiters.push(waiter);
  }

  /** Gives sessions that just became available to waiting accept-next receivers, oldest waiter first. */
  offerSessions(entity: Entity): void {
    for (;;) {
      const waiter = this.waiters.find((w) => w.entity === entity);
      if (!waiter) return;
      const group = this.pickAvailable(entity);
      if (!group) return;
      this.waiters = this.waiters.filter((w) => w !== waiter);
      clearTimeout(waiter.timer);
      this.lock(entity, group, waiter.consumer);
      waiter.onResult(group.id);
    }
  }

  /** @throws BrokerError session-lock-lost unless the session is locked by a receiver on `connectionId` */
  owned(entity: Entity, sessionId: string, connectionId: string): MessageGroup {
    const group = entity.group(sessionId, false);
    if (!group?.owner || group.owner.consumer.connectionId !== connectionId) {
      throw new BrokerError(CONDITION.sessionLockLost,
        `The session lock has expired on the session with id '${sessionId}', or it is not held by this client.`);
    }
    return group;
  }

  /** Extends the session lock (and with it the locks of the session's messages). @throws BrokerError */
  renew(entity: Entity, sessionId: string, connectionId: string): number {
    const group = this.owned(entity, sessionId, connectionId);
    const owner = group.owner!;
    owner.lockedUntilMs = this.store.now() + entity.options.lockDurationMs;
    this.armTimer(entity, group);
    for (const m of group.locked) if (m.lock) m.lock.lockedUntilMs = owner.lockedUntilMs;
    return owner.lockedUntilMs;
  }

  /** Persists and sets the session state; resolves once durable. @throws BrokerError session-lock-lost */
  async setState(entity: Entity, sessionId: string, connectionId: string, state: Buffer | null): Promise<void> {
    const group = this.owned(entity, sessionId, connectionId);
    group.state = state;
    await this.store.persist([
      { t: 'state', e: entity.key, sid: sessionId, v: state === null ? null : state.toString('base64') },
    ]);
  }

  getState(entity: Entity, sessionId: string, connectionId: string): Buffer | null {
    return this.owned(entity, sessionId, connectionId).state;
  }

  /** The consumer is gone or lost its lock: unlock its session and give back the messages it held. */
  release(entity: Entity, consumer: Consumer): void {
    const before = this.waiters.length;
    this.waiters = this.waiters.filter((w) => {
      if (w.consumer !== consumer) return true;
      clearTimeout(w.timer);
      return false;
    });
    if (before !== this.waiters.length || !consumer.sessionful || consumer.sessionId === undefined) return;
    const group = entity.group(consumer.sessionId, false);
    if (!group || group.owner?.consumer !== consumer) return;
    if (group.owner.timer) clearTimeout(group.owner.timer);
    group.owner = undefined;
    const records = this.store.lockedBy(group, consumer).flatMap((entry) => this.store.release(entry));
    this.store.persistInBackground(records);
    this.store.dropGroupIfIdle(entity, group);
    this.offerSessions(entity);
  }

  close(): void {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    for (const entity of this.store.allEntities()) {
      for (const group of entity.groups.values()) if (group.owner?.timer) clearTimeout(group.owner.timer);
    }
  }

  private lock(entity: Entity, group: MessageGroup, consumer: Consumer): number {
    const lockedUntilMs = this.store.now() + entity.options.lockDurationMs;
    group.owner = { consumer, lockedUntilMs, timer: undefined };
    consumer.sessionId = group.id;
    this.armTimer(entity, group);
    return lockedUntilMs;
  }

  private armTimer(entity: Entity, group: MessageGroup): void {
    const owner = group.owner!;
    if (owner.timer) clearTimeout(owner.timer);
    owner.timer = setTimeout(() => this.expire(entity, group), Math.max(0, owner.lockedUntilMs - this.store.now()));
    owner.timer.unref();
  }

  /** Session lock expiry is enforced: the receiver is detached with session-lock-lost, its messages freed. */
  private expire(entity: Entity, group: MessageGroup): void {
    const owner = group.owner;
    if (!owner) return;
    this.release(entity, owner.consumer);
    owner.consumer.fail(new BrokerError(CONDITION.sessionLockLost,
      `The session lock has expired on the session with id '${group.id}'.`));
  }

  private pickAvailable(entity: Entity): MessageGroup | undefined {
    let best: MessageGroup | undefined;
    for (const group of entity.groups.values()) {
      if (group.owner || group.available.length === 0) continue;
      if (!best || group.available[0]!.seq < best.available[0]!.seq) best = group;
    }
    return best;
  }
}
