// In-memory Bus for unit tests and benchmarks: Service Bus semantics (sessions in order, exclusive session locks,
// peek-lock with expiry, abandon, dead-letter, max delivery count, duplicate detection) without a broker.
import { randomUUID } from 'node:crypto';
import { KarsError } from '../../core/errors';
import {
  encodeBusBody, type AcceptSessionOptions, type Bus, type BusPropertyValue, type BusQueueReceiver,
  type BusReceiver, type BusSessionReceiver, type DeadLetterOptions, type OpenReceiverOptions,
  type OutgoingBusMessage, type ReceiveOptions, type ReceivedBusMessage, type SendOptions,
} from '../../core/ports/bus.port';
import { systemClock, type Clock } from '../../core/ports/clock.port';

export interface MemoryBusQueue {
  name: string;
  requiresSession?: boolean;
  lockDurationMs?: number;
  maxDeliveryCount?: number;
  duplicateDetectionWindowMs?: number;
}

export interface CreateMemoryBusOptions {
  queues?: readonly MemoryBusQueue[];
  /** Unknown queues fail with BUS_QUEUE_NOT_FOUND instead of being created on first use. */
  strictQueues?: boolean;
  /** Lock expiry and the duplicate window follow this clock; waits use real timers. */
  clock?: Clock;
  /** How long acceptNextSession waits for a session with messages (default 1000 ms). */
  sessionWaitMs?: number;
  /** Largest send (sum of body bytes) accepted (default 1 MiB, like the local broker). */
  maxMessageBytes?: number;
}

interface Lock {
  token: string;
  untilMs: number;
  holder: Holder;
}

interface Msg {
  seq: number;
  messageId: string;
  sessionId: string | undefined;
  contentType: string | undefined;
  body: Uint8Array;
  props: Record<string, BusPropertyValue>;
  enqueuedAtMs: number;
  /** Deliveries so far; a receiver sees the count of earlier ones. */
  deliveries: number;
  lock: Lock | undefined;
  deadLetterReason: string | undefined;
  deadLetterDescription: string | undefined;
}

interface Queue {
  name: string;
  requiresSession: boolean;
  lockDurationMs: number;
  maxDeliveryCount: number;
  duplicateWindowMs: number;
  messages: Msg[];
  nextSeq: number;
  dupIds: Map<string, number>;
  sessionLocks: Map<string, { holder: Holder; untilMs: number }>;
  deadLetter: Queue | undefined;
}

interface Holder {
  closed: boolean;
}

const POLL_MS = 20;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createMemoryBus(options: CreateMemoryBusOptions = {}): Bus {
  const clock = options.clock ?? systemClock;
  const sessionWaitMs = options.sessionWaitMs ?? 1000;
  const maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
  const queues = new Map<string, Queue>();
  let closed = false;

  const makeQueue = (spec: MemoryBusQueue, deadLetter: boolean): Queue => ({
    name: deadLetter ? `${spec.name}/$DeadLetterQueue` : spec.name,
    requiresSession: !deadLetter && (spec.requiresSession ?? false),
    lockDurationMs: spec.lockDurationMs ?? 30_000,
    maxDeliveryCount: deadLetter ? Number.MAX_SAFE_INTEGER : (spec.maxDeliveryCount ?? 10),
    duplicateWindowMs: spec.duplicateDetectionWindowMs ?? 10 * 60_000,
    messages: [],
    nextSeq: 1,
    dupIds: new Map(),
    sessionLocks: new Map(),
    deadLetter: deadLetter ? undefined : makeQueue(spec, true),
  });
  for (const spec of options.queues ?? []) queues.set(spec.name.toLowerCase(), makeQueue(spec, false));

  const ensureOpen = (what: string): void => {
    if (closed) throw new KarsError('BUS_UNAVAILABLE', `${what}: the bus is closed`);
  };

  const queueFor = (name: string, what: string): Queue => {
    let q = queues.get(name.toLowerCase());
    if (!q) {
      if (options.strictQueues) throw new KarsError('BUS_QUEUE_NOT_FOUND', `${what}: the queue does not exist`);
      q = makeQueue({ name }, false);
      queues.set(name.toLowerCase(), q);
    }
    return q;
  };

  const insert = (q: Queue, m: Msg): void => {
    let i = q.messages.length;
    while (i > 0 && q.messages[i - 1]!.seq > m.seq) i--;
    q.messages.splice(i, 0, m);
  };

  const moveToDeadLetter = (q: Queue, m: Msg, reason: string, description: string | undefined): void => {
    q.messages.splice(q.messages.indexOf(m), 1);
    const dlq = q.deadLetter;
    if (!dlq) return;
    insert(dlq, {
      ...m, seq: dlq.nextSeq++, enqueuedAtMs: clock.nowMs(), lock: undefined,
      deadLetterReason: reason, deadLetterDescription: description,
    });
  };

  const release = (q: Queue, m: Msg): void => {
    m.lock = undefined;
    if (m.deliveries >= q.maxDeliveryCount) {
      moveToDeadLetter(q, m, 'MaxDeliveryCountExceeded', `Message could not be consumed after ${q.maxDeliveryCount} delivery attempts.`);
    }
  };

  const releaseSession = (q: Queue, sessionId: string, holder: Holder): void => {
    if (q.sessionLocks.get(sessionId)?.holder !== holder) return;
    q.sessionLocks.delete(sessionId);
    for (const m of [...q.messages]) if (m.lock?.holder === holder && m.sessionId === sessionId) release(q, m);
  };

  /** Lock expiry, applied lazily whenever the queue is touched. */
  const sweep = (q: Queue): void => {
    const now = clock.nowMs();
    for (const [sessionId, lock] of [...q.sessionLocks]) if (lock.untilMs <= now) releaseSession(q, sessionId, lock.holder);
    if (!q.requiresSession) for (const m of [...q.messages]) if (m.lock && m.lock.untilMs <= now) release(q, m);
  };

  const isDuplicate = (q: Queue, messageId: string, now: number): boolean => {
    for (const [id, until] of q.dupIds) {
      if (until > now) break;
      q.dupIds.delete(id);
    }
    return (q.dupIds.get(messageId) ?? 0) > now;
  };

  const toReceived = (m: Msg): ReceivedBusMessage => ({
    messageId: m.messageId,
    sessionId: m.sessionId,
    contentType: m.contentType,
    body: m.body.slice(),
    applicationProperties: { ...m.props },
    deliveryCount: m.deliveries - 1,
    sequenceNumber: m.seq,
    enqueuedAtMs: m.enqueuedAtMs,
    lockToken: m.lock!.token,
    lockedUntilMs: m.lock!.untilMs,
    deadLetterReason: m.deadLetterReason,
    deadLetterDescription: m.deadLetterDescription,
  });

  const take = (q: Queue, holder: Holder, sessionId: string | undefined, max: number): ReceivedBusMessage[] => {
    const out: ReceivedBusMessage[] = [];
    const now = clock.nowMs();
    for (const m of q.messages) {
      if (out.length >= max) break;
      if (m.lock || (sessionId !== undefined && m.sessionId !== sessionId)) continue;
      const untilMs = sessionId !== undefined ? q.sessionLocks.get(sessionId)!.untilMs : now + q.lockDurationMs;
      m.lock = { token: randomUUID(), untilMs, holder };
      m.deliveries++;
      out.push(toReceived(m));
    }
    return out;
  };

  const waitFor = async <T>(
    attempt: () => T | undefined, waitMs: number, signal: AbortSignal | undefined, what: string,
  ): Promise<T | undefined> => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (signal?.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', `${what}: aborted`);
      const got = attempt();
      if (got !== undefined) return got;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(POLL_MS, left));
    }
  };

  const makeReceiver = (
    q: Queue, holder: Holder, sessionId: string | undefined, label: string,
  ): BusReceiver & { held(message: ReceivedBusMessage, what: string): Msg } => {
    const checkUsable = (what: string): void => {
      ensureOpen(what);
      if (holder.closed) throw new KarsError('BUS_UNAVAILABLE', `${what}: the receiver is closed`);
      if (sessionId !== undefined) {
        sweep(q);
        if (q.sessionLocks.get(sessionId)?.holder !== holder) {
          throw new KarsError('BUS_LOCK_LOST', `${what}: the session lock expired or was lost`);
        }
      }
    };
    const held = (message: ReceivedBusMessage, what: string): Msg => {
      sweep(q);
      const m = q.messages.find((x) => x.lock?.token === message.lockToken);
      if (!m || m.lock!.holder !== holder || holder.closed) {
        throw new KarsError('BUS_LOCK_LOST', `${what}: the message is not locked by this receiver`);
      }
      if (sessionId !== undefined && q.sessionLocks.get(sessionId)?.holder !== holder) {
        throw new KarsError('BUS_LOCK_LOST', `${what}: the session lock expired or was lost`);
      }
      return m;
    };
    return {
      held,
      async receive(maxMessages: number, receiveOptions: ReceiveOptions = {}): Promise<ReceivedBusMessage[]> {
        if (!Number.isInteger(maxMessages) || maxMessages < 1) {
          throw new RangeError(`"maxMessages" expected a positive integer, got ${maxMessages}`);
        }
        const what = `receive from ${label}`;
        checkUsable(what);
        if (q.requiresSession && sessionId === undefined) {
          throw new KarsError('BUS_UNAVAILABLE', `${what}: the queue requires sessions`);
        }
        const got = await waitFor(() => {
          checkUsable(what);
          sweep(q);
          const batch = take(q, holder, sessionId, maxMessages);
          return batch.length > 0 ? batch : undefined;
        }, receiveOptions.maxWaitMs ?? 1000, receiveOptions.abortSignal, what);
        return got ?? [];
      },
      async complete(message: ReceivedBusMessage): Promise<void> {
        const m = held(message, `complete on ${label}`);
        q.messages.splice(q.messages.indexOf(m), 1);
      },
      async abandon(message: ReceivedBusMessage): Promise<void> {
        release(q, held(message, `abandon on ${label}`));
      },
      async deadLetter(message: ReceivedBusMessage, dl: DeadLetterOptions): Promise<void> {
        const m = held(message, `dead-letter on ${label}`);
        if (!q.deadLetter) {
          throw new KarsError('BUS_UNAVAILABLE', `dead-letter on ${label}: a dead-lettered message cannot be dead-lettered again`);
        }
        m.lock = undefined;
        moveToDeadLetter(q, m, dl.reason, dl.description ?? '');
      },
      async close(): Promise<void> {
        if (holder.closed) return;
        holder.closed = true;
        if (sessionId !== undefined) releaseSession(q, sessionId, holder);
        // Plain peek-lock messages keep their locks until expiry, as in Service Bus.
      },
    };
  };

  const sessionReceiver = (q: Queue, sessionId: string, holder: Holder, queueName: string): BusSessionReceiver => {
    const base = makeReceiver(q, holder, sessionId, `${queueName} session ${sessionId}`);
    return {
      receive: base.receive,
      complete: base.complete,
      abandon: base.abandon,
      deadLetter: base.deadLetter,
      close: base.close,
      sessionId,
      get lockedUntilMs(): number {
        return q.sessionLocks.get(sessionId)?.untilMs ?? 0;
      },
      async renewLock(): Promise<number> {
        const what = `renew session lock on ${queueName}`;
        ensureOpen(what);
        sweep(q);
        const lock = q.sessionLocks.get(sessionId);
        if (holder.closed || lock?.holder !== holder) throw new KarsError('BUS_LOCK_LOST', `${what}: the session lock expired or was lost`);
        lock.untilMs = clock.nowMs() + q.lockDurationMs;
        for (const m of q.messages) if (m.lock?.holder === holder) m.lock.untilMs = lock.untilMs;
        return lock.untilMs;
      },
    };
  };

  const lockSession = (q: Queue, sessionId: string, holder: Holder): void => {
    q.sessionLocks.set(sessionId, { holder, untilMs: clock.nowMs() + q.lockDurationMs });
  };

  return {
    health: {
      name: 'service-bus',
      async check(signal: AbortSignal): Promise<void> {
        if (signal.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', 'service-bus health: aborted');
        ensureOpen('service-bus health');
      },
    },

    async send(queue: string, messages: OutgoingBusMessage | readonly OutgoingBusMessage[], sendOptions: SendOptions = {}) {
      const what = `send to ${queue}`;
      ensureOpen(what);
      if (sendOptions.abortSignal?.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', `${what}: aborted`);
      const q = queueFor(queue, what);
      const list = (Array.isArray(messages) ? messages : [messages]) as readonly OutgoingBusMessage[];
      const encoded = list.map((m) => ({ m, ...encodeBusBody(m) }));
      if (encoded.reduce((n, e) => n + e.bytes.byteLength, 0) > maxMessageBytes) {
        throw new KarsError('BUS_MESSAGE_TOO_LARGE', `${what}: the message exceeds the maximum size`);
      }
      if (q.requiresSession && list.some((m) => !m.sessionId)) {
        throw new KarsError('BUS_UNAVAILABLE', `${what}: the queue requires a session id on every message`);
      }
      const now = clock.nowMs();
      for (const { m, bytes, contentType } of encoded) {
        const messageId = m.messageId ?? randomUUID();
        if (q.duplicateWindowMs > 0) {
          if (isDuplicate(q, messageId, now)) continue;
          q.dupIds.delete(messageId);
          q.dupIds.set(messageId, now + q.duplicateWindowMs);
        }
        insert(q, {
          seq: q.nextSeq++, messageId, sessionId: m.sessionId, contentType, body: bytes.slice(),
          props: { ...(m.applicationProperties ?? {}) }, enqueuedAtMs: now, deliveries: 0, lock: undefined,
          deadLetterReason: undefined, deadLetterDescription: undefined,
        });
      }
    },

    async acceptSession(queue: string, sessionId: string, acceptOptions: AcceptSessionOptions = {}) {
      const what = `accept session on ${queue}`;
      ensureOpen(what);
      if (acceptOptions.abortSignal?.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', `${what}: aborted`);
      const q = queueFor(queue, what);
      if (!q.requiresSession) throw new KarsError('BUS_UNAVAILABLE', `${what}: the queue does not use sessions`);
      sweep(q);
      if (q.sessionLocks.has(sessionId)) {
        throw new KarsError('BUS_SESSION_LOCKED', `${what}: the session is locked by another receiver`);
      }
      const holder: Holder = { closed: false };
      lockSession(q, sessionId, holder);
      return sessionReceiver(q, sessionId, holder, queue);
    },

    async acceptNextSession(queue: string, acceptOptions: AcceptSessionOptions = {}) {
      const what = `accept next session on ${queue}`;
      ensureOpen(what);
      const q = queueFor(queue, what);
      if (!q.requiresSession) throw new KarsError('BUS_UNAVAILABLE', `${what}: the queue does not use sessions`);
      const holder: Holder = { closed: false };
      const sessionId = await waitFor(() => {
        ensureOpen(what);
        sweep(q);
        const m = q.messages.find((x) => !x.lock && x.sessionId !== undefined && !q.sessionLocks.has(x.sessionId));
        if (!m) return undefined;
        lockSession(q, m.sessionId!, holder);
        return m.sessionId!;
      }, sessionWaitMs, acceptOptions.abortSignal, what);
      return sessionId === undefined ? undefined : sessionReceiver(q, sessionId, holder, queue);
    },

    async openReceiver(queue: string, openOptions: OpenReceiverOptions = {}): Promise<BusQueueReceiver> {
      const what = `open receiver on ${queue}`;
      ensureOpen(what);
      const main = queueFor(queue, what);
      const q = openOptions.deadLetter ? main.deadLetter! : main;
      const holder: Holder = { closed: false };
      const base = makeReceiver(q, holder, undefined, q.name);
      return {
        receive: base.receive,
        complete: base.complete,
        abandon: base.abandon,
        deadLetter: base.deadLetter,
        close: base.close,
        async renewLock(message: ReceivedBusMessage): Promise<number> {
          const m = base.held(message, `renew message lock on ${q.name}`);
          m.lock!.untilMs = clock.nowMs() + q.lockDurationMs;
          return m.lock!.untilMs;
        },
      };
    },

    async close(): Promise<void> {
      closed = true;
    },
  };
}
