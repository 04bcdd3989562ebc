// Local Service Bus stand-in: queues, peek-lock, dead-lettering, duplicate detection and journal replay.
import { randomBytes } from 'node:crypto';
import { generate_uuid, message as rheaMessage, types, type Message } from 'rhea';
import { BrokerError, CONDITION, decodeMessage, lockTokenOfTag, messageIdText, parseEntityAddress } from './amqp-values';
import type { Journal, JournalRecord } from './journal';
import { resolveQueueOptions, type QueueOptions, type ResolvedQueueOptions } from './queue-options';
import { Entity, MessageGroup, type Consumer, type LockEntry, type StoredMessage } from './queue-entities';
import { SessionLocks } from './sessions';

export type Settlement =
  | { kind: 'complete' }
  | { kind: 'abandon' }
  | { kind: 'deadLetter'; reason?: string; description?: string; properties?: Record<string, unknown> }
  | { kind: 'defer' };

export interface QueueStoreOptions {
  queues?: readonly QueueOptions[];
  strictQueues?: boolean;
  /** Settings of queues created on first use (not strict): e.g. sessions for a harness whose sandbox queues come and go. */
  autoCreateQueue?: Omit<QueueOptions, 'name'>;
  journal?: Journal;
  now?: () => number;
  /** Reports failures that have no client to answer (a journal write after a lock expiry). */
  onBackgroundError?: (e: unknown) => void;
}

const DLQ_SUFFIX = '/$deadletterqueue';
const MAX_DELIVERY_REASON = 'MaxDeliveryCountExceeded';

function insertBySeq(list: StoredMessage[], m: StoredMessage): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq < m.seq) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, m);
}

function removeFrom(list: StoredMessage[], m: StoredMessage): void {
  const i = list.indexOf(m);
  if (i >= 0) list.splice(i, 1);
}

export class QueueStore {
  readonly sessions: SessionLocks;
  readonly now: () => number;
  private readonly entities = new Map<string, Entity>();
  private readonly configured = new Map<string, ResolvedQueueOptions>();
  private readonly locks = new Map<string, LockEntry>();
  private readonly strict: boolean;
  private readonly autoCreate: Omit<QueueOptions, 'name'>;
  private readonly journal: Journal | undefined;
  private readonly onBackgroundError: (e: unknown) => void;
  private closed = false;

  constructor(options: QueueStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.strict = options.strictQueues ?? false;
    this.autoCreate = options.autoCreateQueue ?? {};
    this.journal = options.journal;
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
    this.sessions = new SessionLocks(this);
    for (const q of options.queues ?? []) {
      const resolved = resolveQueueOptions(q);
      this.configured.set(resolved.name.toLowerCase(), resolved);
      this.createEntity(resolved, false);
    }
  }

  // ---------------------------------------------------------------- entities

  /** The entity behind a link address. @throws BrokerError not-found (strict mode) or not-implemented. */
  entityForAddress(address: string): Entity {
    const parsed = parseEntityAddress(address);
    const key = parsed.queue.toLowerCase();
    let entity = this.entities.get(key);
    if (!entity) {
      if (this.strict) {
        throw new BrokerError(CONDITION.notFound, `The messaging entity '${parsed.queue}' could not be found.`);
      }
      let resolved: ResolvedQueueOptions;
      try {
        resolved = resolveQueueOptions({ ...this.autoCreate, name: parsed.queue });
      } catch (e) {
        throw new BrokerError(CONDITION.notFound, (e as Error).message);
      }
      entity = this.createEntity(resolved, true);
    }
    return parsed.deadLetter ? entity.deadLetter! : entity;
  }

  /** Creates a queue as the management plane does (persisted); an existing queue is returned unchanged. */
  createQueue(options: QueueOptions): Entity {
    const resolved = resolveQueueOptions(options);
    return this.entities.get(resolved.name.toLowerCase()) ?? this.createEntity(resolved, true);
  }

  /**
   * Deletes a queue with its messages and dead-letter queue; links on it are detached with amqp:not-found, as
   * Service Bus does when an entity is deleted under them. @returns false when there was no such queue.
   */
  deleteQueue(name: string): boolean {
    const key = name.toLowerCase();
    const entity = this.entities.get(key);
    if (!entity) return false;
    this.dropEntity(entity);
    this.persistInBackground([{ t: 'drop', e: key }]);
    return true;
  }

  private dropEntity(entity: Entity): void {
    this.entities.delete(entity.key);
    this.configured.delete(entity.key);
    for (const [token, entry] of this.locks) {
      if (entry.entity === entity || entry.entity === entity.deadLetter) {
        if (entry.timer) clearTimeout(entry.timer);
        this.locks.delete(token);
      }
    }
    for (const e of [entity, entity.deadLetter!]) {
      for (const g of e.groups.values()) if (g.owner?.timer) clearTimeout(g.owner.timer);
      for (const c of [...e.consumers]) c.fail(new BrokerError(CONDITION.notFound, `The messaging entity '${e.name}' was deleted.`));
    }
  }

  private createEntity(options: ResolvedQueueOptions, persist: boolean): Entity {
    const key = options.name.toLowerCase();
    const entity = new Entity(key, options, undefined);
    // The DLQ never dead-letters again and never requires sessions, as in Service Bus.
    entity.deadLetter = new Entity(key + DLQ_SUFFIX, { ...options, maxDeliveryCount: Number.MAX_SAFE_INTEGER }, entity);
    this.entities.set(key, entity);
    if (persist) this.persistInBackground([{ t: 'queue', e: key, o: options }]);
    return entity;
  }

  private entityByKey(key: string): Entity | undefined {
    if (key.endsWith(DLQ_SUFFIX)) return this.entities.get(key.slice(0, -DLQ_SUFFIX.length))?.deadLetter;
    return this.entities.get(key);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Enqueues one delivery's messages atomically: all are validated first, duplicates (same message id within the
   * window) are dropped, the rest are journaled (when durable) and only then become visible.
   * @throws BrokerError when any message is refused; nothing is enqueued then.
   */
  async accept(entity: Entity, messages: Message[]): Promise<void> {
    if (entity.isDeadLetter) {
      throw new BrokerError(CONDITION.notAllowed, `Cannot send to the dead-letter queue '${entity.name}'.`);
    }
    for (const msg of messages) {
      const annotations = msg.message_annotations as Record<string, unknown> | undefined;
      if (annotations?.['x-opt-scheduled-enqueue-time'] !== undefined) {
        throw new BrokerError(CONDITION.notImplemented, 'Scheduled messages are not supported by the local broker.');
      }
      if (entity.requiresSession && (typeof msg.group_id !== 'string' || msg.group_id === '')) {
        throw new BrokerError(CONDITION.notAllowed,
          `The SessionId was not set on a message, and it cannot be sent to the entity '${entity.name}'. ` +
          'Entities that have session support enabled can only receive messages that have the SessionId set.');
      }
      if (msg.message_id === undefined || msg.message_id === null) msg.message_id = generate_uuid();
    }
    const now = this.now();
    const window = entity.options.duplicateDetectionWindowMs;
    const fresh: StoredMessage[] = [];
    const recorded: string[] = [];
    for (const msg of messages) {
      const messageId = messageIdText(msg.message_id) ?? generate_uuid();
      if (window > 0) {
        if (this.isDuplicate(entity, messageId, now)) continue;
        entity.dupIds.delete(messageId);
        entity.dupIds.set(messageId, now + window);
        recorded.push(messageId);
      }
      fresh.push({
        seq: entity.nextSeq++,
        enqueuedAtMs: now,
        messageId,
        sessionId: typeof msg.group_id === 'string' ? msg.group_id : undefined,
        message: msg,
        deliveryCount: 0,
        lock: undefined,
      });
    }
    if (fresh.length === 0) return;
    if (this.journal) {
      const records: JournalRecord[] = fresh.map((m) => ({
        t: 'enq', e: entity.key, s: m.seq, at: m.enqueuedAtMs, m: rheaMessage.encode(m.message).toString('base64'),
      }));
      try {
        await this.journal.append(records);
      } catch (e) {
        for (const id of recorded) entity.dupIds.delete(id);
        this.onBackgroundError(e);
        throw new BrokerError(CONDITION.internal, 'The broker could not persist the message.');
      }
    }
    if (this.closed) throw new BrokerError(CONDITION.internal, 'The broker is shutting down.');
    for (const m of fresh) this.insert(entity, m);
    this.afterAvailable(entity);
  }

  private isDuplicate(entity: Entity, messageId: string, now: number): boolean {
    // Drop expired ids from the front; with one window per queue, insertion order is expiry order.
    for (const [id, until] of entity.dupIds) {
      if (until > now) break;
      entity.dupIds.delete(id);
    }
    const until = entity.dupIds.get(messageId);
    return until !== undefined && until > now;
  }

  private insert(entity: Entity, m: StoredMessage): void {
    entity.messages.set(m.seq, m);
    insertBySeq(entity.group(m.sessionId, true)!.available, m);
  }

  // ---------------------------------------------------------------- receiving

  addConsumer(entity: Entity, consumer: Consumer): void {
    entity.consumers.add(consumer);
  }

  /** The link is gone: a session consumer gives its session (and the messages it holds) back at once. */
  removeConsumer(entity: Entity, consumer: Consumer): void {
    entity.consumers.delete(consumer);
    this.sessions.release(entity, consumer);
  }

  /** Hands available messages to consumers with credit. Called whenever credit or messages appear. */
  pump(entity: Entity): void {
    if (this.closed) return;
    const consumers = [...entity.consumers];
    // Rotate so that several plain receivers on one queue share the load.
    const first = consumers[0];
    if (first && consumers.length > 1) {
      entity.consumers.delete(first);
      entity.consumers.add(first);
    }
    for (const consumer of consumers) {
      let credit = consumer.availableCredit();
      while (credit > 0) {
        const group = this.groupFor(entity, consumer);
        const next = group?.available[0];
        if (!group || !next) break;
        this.deliver(entity, group, next, consumer);
        credit--;
      }
    }
  }

  private groupFor(entity: Entity, consumer: Consumer): MessageGroup | undefined {
    if (!consumer.sessionful) return entity.requiresSession ? undefined : entity.group(undefined, false);
    if (consumer.sessionId === undefined) return undefined;
    const group = entity.group(consumer.sessionId, false);
    return group?.owner?.consumer === consumer ? group : undefined;
  }

  private deliver(entity: Entity, group: MessageGroup, m: StoredMessage, consumer: Consumer): void {
    group.available.shift();
    if (consumer.receiveAndDelete) {
      const payload = this.encode(m, undefined);
      this.removeMessage(entity, m);
      // At-most-once by definition: the delete is journaled without holding the transfer back.
      this.persistInBackground([{ t: 'del', e: entity.key, s: m.seq }]);
      consumer.deliver(payload, undefined);
      return;
    }
    const tag = randomBytes(16);
    const token = lockTokenOfTag(tag);
    const owner = entity.requiresSession ? group.owner : undefined;
    const lockedUntilMs = owner ? owner.lockedUntilMs : this.now() + entity.options.lockDurationMs;
    const entry: LockEntry = {
      token, tag, entity, message: m, consumer, delivery: undefined, lockedUntilMs, timer: undefined,
    };
    const payload = this.encode(m, lockedUntilMs);
    m.deliveryCount++;
    m.lock = entry;
    group.locked.add(m);
    this.locks.set(token, entry);
    if (!owner) this.armLockTimer(entry, entity.options.lockDurationMs);
    entry.delivery = consumer.deliver(payload, tag);
  }

  private armLockTimer(entry: LockEntry, ms: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.expireLock(entry.token), ms);
    entry.timer.unref();
  }

  /** Lock expiry is enforced: the message is available again (or dead-lettered) and the token stops working. */
  private expireLock(token: string): void {
    const entry = this.locks.get(token);
    if (!entry || this.closed) return;
    this.persistInBackground(this.release(entry));
  }

  /** Encodes a message with the annotations the SDK reads (sequence number, enqueued time, lock expiry). */
  encode(m: StoredMessage, lockedUntilMs: number | undefined): Buffer {
    const annotations: Record<string, unknown> = {
      ...((m.message.message_annotations as Record<string, unknown> | undefined) ?? {}),
      'x-opt-sequence-number': types.wrap_long(m.seq),
      'x-opt-enqueued-time': new Date(m.enqueuedAtMs),
      'x-opt-message-state': types.wrap_int(0),
    };
    if (lockedUntilMs !== undefined) annotations['x-opt-locked-until'] = new Date(lockedUntilMs);
    return rheaMessage.encode({ ...m.message, delivery_count: m.deliveryCount, message_annotations: annotations });
  }

  // ---------------------------------------------------------------- settlement

  lockEntry(token: string): LockEntry | undefined {
    return this.locks.get(token);
  }

  /**
   * Applies a settlement and resolves once it is durable.
   * @throws BrokerError message-lock-lost (unknown or expired token), session-lock-lost, not-implemented (defer)
   */
  async settle(token: string, outcome: Settlement): Promise<void> {
    const entry = this.locks.get(token);
    if (!entry) {
      throw new BrokerError(CONDITION.messageLockLost,
        'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.');
    }
    const { entity, message } = entry;
    if (entity.requiresSession) {
      const group = entity.group(message.sessionId, false);
      if (group?.owner?.consumer !== entry.consumer) {
        throw new BrokerError(CONDITION.sessionLockLost, `The session lock on session '${message.sessionId}' was lost.`);
      }
    }
    let records: JournalRecord[];
    switch (outcome.kind) {
      case 'complete':
        this.dropLock(entry);
        this.removeMessage(entity, message);
        records = [{ t: 'del', e: entity.key, s: message.seq }];
        break;
      case 'abandon':
        records = this.release(entry);
        break;
      case 'deadLetter':
        if (entity.isDeadLetter) {
          throw new BrokerError(CONDITION.notAllowed, 'A message in a dead-letter queue cannot be dead-lettered again.');
        }
        this.dropLock(entry);
        records = this.moveToDeadLetter(entity, message, outcome.reason, outcome.description, outcome.properties);
        break;
      case 'defer':
        throw new BrokerError(CONDITION.notImplemented, 'Deferring messages is not supported by the local broker.');
    }
    await this.persist(records);
  }

  /** Extends a message lock by the queue's lock duration. @throws BrokerError message-lock-lost */
  renewMessageLock(token: string): number {
    const entry = this.locks.get(token);
    if (!entry) {
      throw new BrokerError(CONDITION.messageLockLost,
        'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.');
    }
    if (entry.entity.requiresSession) {
      throw new BrokerError(CONDITION.notAllowed, 'Messages of a session are locked with their session: renew the session lock.');
    }
    entry.lockedUntilMs = this.now() + entry.entity.options.lockDurationMs;
    this.armLockTimer(entry, entry.entity.options.lockDurationMs);
    return entry.lockedUntilMs;
  }

  private dropLock(entry: LockEntry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    this.locks.delete(entry.token);
    entry.message.lock = undefined;
    entry.entity.group(entry.message.sessionId, false)?.locked.delete(entry.message);
  }

  /**
   * Gives a locked message back (abandon, lock expiry, session closed). Past maxDeliveryCount it goes to the DLQ
   * with reason MaxDeliveryCountExceeded. Returns the journal records describing the change.
   */
  release(entry: LockEntry): JournalRecord[] {
    this.dropLock(entry);
    const { entity, message } = entry;
    if (!entity.messages.has(message.seq)) return [];
    const max = entity.options.maxDeliveryCount;
    if (message.deliveryCount >= max) {
      return this.moveToDeadLetter(entity, message, MAX_DELIVERY_REASON,
        `Message could not be consumed after ${max} delivery attempts.`);
    }
    insertBySeq(entity.group(message.sessionId, true)!.available, message);
    this.afterAvailable(entity);
    return [{ t: 'dc', e: entity.key, s: message.seq, n: message.deliveryCount }];
  }

  /** Locked messages of one session held by `consumer` (released when the session lock goes). */
  lockedBy(group: MessageGroup, consumer: Consumer): LockEntry[] {
    const out: LockEntry[] = [];
    for (const m of group.locked) if (m.lock?.consumer === consumer) out.push(m.lock);
    return out;
  }

  private moveToDeadLetter(
    entity: Entity, m: StoredMessage, reason: string | undefined, description: string | undefined,
    properties?: Record<string, unknown>, at?: number, seq?: number,
  ): JournalRecord[] {
    const dlq = entity.deadLetter;
    if (!dlq) return [];
    this.removeMessage(entity, m);
    const applicationProperties: Record<string, unknown> = {
      ...((m.message.application_properties as Record<string, unknown> | undefined) ?? {}),
      ...(properties ?? {}),
    };
    if (reason !== undefined) applicationProperties.DeadLetterReason = reason;
    if (description !== undefined) applicationProperties.DeadLetterErrorDescription = description;
    const annotations = {
      ...((m.message.message_annotations as Record<string, unknown> | undefined) ?? {}),
      'x-opt-deadletter-source': entity.name,
    };
    const moved: StoredMessage = {
      seq: seq ?? dlq.nextSeq++,
      enqueuedAtMs: at ?? this.now(),
      messageId: m.messageId,
      sessionId: m.sessionId,
      message: { ...m.message, application_properties: applicationProperties, message_annotations: annotations } as Message,
      deliveryCount: m.deliveryCount,
      lock: undefined,
    };
    dlq.nextSeq = Math.max(dlq.nextSeq, moved.seq + 1);
    this.insert(dlq, moved);
    this.afterAvailable(dlq);
    const record: Extract<JournalRecord, { t: 'dlq' }> = {
      t: 'dlq', e: entity.key, s: m.seq, ns: moved.seq, at: moved.enqueuedAtMs, n: m.deliveryCount,
    };
    if (reason !== undefined) record.r = reason;
    if (description !== undefined) record.d = description;
    if (properties && Object.keys(properties).length > 0) record.p = properties;
    return [record];
  }

  private removeMessage(entity: Entity, m: StoredMessage): void {
    entity.messages.delete(m.seq);
    const group = entity.group(m.sessionId, false);
    if (!group) return;
    removeFrom(group.available, m);
    group.locked.delete(m);
    this.dropGroupIfIdle(entity, group);
  }

  dropGroupIfIdle(entity: Entity, group: MessageGroup): void {
    if (group.available.length === 0 && group.locked.size === 0 && !group.owner && group.state === null) {
      entity.groups.delete(group.id);
    }
  }

  private afterAvailable(entity: Entity): void {
    if (this.closed) return;
    if (entity.requiresSession) this.sessions.offerSessions(entity);
    this.pump(entity);
  }

  // ---------------------------------------------------------------- peek

  /** Messages from a sequence number on, without locking them (the SDK's peekMessages). */
  peek(entity: Entity, fromSeq: number, count: number, sessionId: string | undefined): Buffer[] {
    const picked: StoredMessage[] = [];
    for (const m of entity.messages.values()) {
      if (m.seq < fromSeq) continue;
      if (sessionId !== undefined && m.sessionId !== sessionId) continue;
      picked.push(m);
    }
    picked.sort((a, b) => a.seq - b.seq);
    return picked.slice(0, count).map((m) => this.encode(m, undefined));
  }

  // ---------------------------------------------------------------- durability

  persist(records: JournalRecord[]): Promise<void> {
    if (!this.journal || records.length === 0) return Promise.resolve();
    return this.journal.append(records).catch((e: unknown) => {
      this.onBackgroundError(e);
      throw new BrokerError(CONDITION.internal, 'The broker could not persist the settlement.');
    });
  }

  persistInBackground(records: JournalRecord[]): void {
    this.persist(records).catch(() => {}); // already reported through onBackgroundError
  }

  /** Rebuilds state from journal records (in order). Configured options win over journaled ones. */
  replay(records: readonly JournalRecord[]): void {
    const now = this.now();
    for (const r of records) {
      if (r.t === 'queue') {
        const existing = this.entities.get(r.e);
        if (!existing) this.createEntity(this.configured.get(r.e) ?? resolveQueueOptions(r.o), false);
        continue;
      }
      if (r.t === 'drop') {
        const dropped = this.entities.get(r.e);
        if (dropped) this.dropEntity(dropped);
        continue;
      }
      const entity = this.entityByKey(r.e);
      if (!entity) continue;
      switch (r.t) {
        case 'seq':
          entity.nextSeq = Math.max(entity.nextSeq, r.s + 1);
          break;
        case 'enq': {
          const message = decodeMessage(Buffer.from(r.m, 'base64'));
          const messageId = messageIdText(message.message_id) ?? generate_uuid();
          const m: StoredMessage = {
            seq: r.s, enqueuedAtMs: r.at, messageId,
            sessionId: typeof message.group_id === 'string' ? message.group_id : undefined,
            message, deliveryCount: r.n ?? 0, lock: undefined,
          };
          this.insert(entity, m);
          entity.nextSeq = Math.max(entity.nextSeq, r.s + 1);
          const window = entity.options.duplicateDetectionWindowMs;
          if (window > 0 && r.at + window > now && !entity.isDeadLetter) entity.dupIds.set(messageId, r.at + window);
          break;
        }
        case 'del': {
          const m = entity.messages.get(r.s);
          if (m) this.removeMessage(entity, m);
          break;
        }
        case 'dc': {
          const m = entity.messages.get(r.s);
          if (m) m.deliveryCount = r.n;
          break;
        }
        case 'dlq': {
          const m = entity.messages.get(r.s);
          if (m) {
            if (r.n !== undefined) m.deliveryCount = r.n;
            this.moveToDeadLetter(entity, m, r.r, r.d, r.p, r.at, r.ns);
          }
          break;
        }
        case 'state': {
          const group = entity.group(r.sid, true)!;
          group.state = r.v === null ? null : Buffer.from(r.v, 'base64');
          this.dropGroupIfIdle(entity, group);
          break;
        }
        case 'dup':
          if (r.until > now) entity.dupIds.set(r.id, r.until);
          break;
      }
    }
  }

  /** The live state as journal records, for compaction at start. */
  snapshot(): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (const entity of this.entities.values()) {
      out.push({ t: 'queue', e: entity.key, o: entity.options });
      for (const e of [entity, entity.deadLetter!]) {
        out.push({ t: 'seq', e: e.key, s: e.nextSeq - 1 });
        const messages = [...e.messages.values()].sort((a, b) => a.seq - b.seq);
        for (const m of messages) {
          out.push({
            t: 'enq', e: e.key, s: m.seq, at: m.enqueuedAtMs, n: m.deliveryCount,
            m: rheaMessage.encode(m.message).toString('base64'),
          });
        }
      }
      for (const [id, until] of entity.dupIds) out.push({ t: 'dup', e: entity.key, id, until });
      for (const group of entity.groups.values()) {
        if (group.state !== null) out.push({ t: 'state', e: entity.key, sid: group.id, v: group.state.toString('base64') });
      }
    }
    return out;
  }

  /** Stops every timer; the store answers nothing afterwards. */
  close(): void {
    this.closed = true;
    for (const entry of this.locks.values()) if (entry.timer) clearTimeout(entry.timer);
    this.locks.clear();
    this.sessions.close();
  }

  allEntities(): IterableIterator<Entity> {
    return this.entities.values();
  }
}
