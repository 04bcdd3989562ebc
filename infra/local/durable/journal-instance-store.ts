// The local Durable runner's instances, histories and inboxes in memory, every change journaled (fdatasync) before it
// is acknowledged. Azurite keeps its tables in a file it saves every 5 s, so a SIGKILL of the stack lost starts,
// approvals and episodes answered in the last seconds; the local stack runs the runner on this store instead (one
// host process owns the journal; the Table store remains for runners that share storage). Each operation is one
// journal record, so a torn tail loses at most an unacknowledged operation, never half a commit.
import { join } from 'node:path';
import { KarsError } from '../../../core/errors';
import { DurableLog } from '../journal/durable-log';
import type { StoredHistoryEvent } from './history-event';
import {
  MAX_MESSAGES_PER_COMMIT,
  type CommitInput,
  type InboxMessage,
  type InstanceRecord,
  type LoadedInstance,
  type StoredInboxMessage,
} from './table-instance-store';
import type { InstanceStore } from './instance-store';

type Row = Omit<InstanceRecord, 'etag'> & { etag: string };

type JournalRecord =
  | { t: 'create'; row: Row }
  | { t: 'commit'; row: Row; start: number; events: StoredHistoryEvent[]; drop: string[] }
  | { t: 'msg'; id: string; key: string; message: InboxMessage }
  | { t: 'drop'; id: string; keys: string[] }
  | { t: 'hist'; id: string; events: StoredHistoryEvent[] };

interface Entry {
  row: Row;
  history: StoredHistoryEvent[];
  inbox: Map<string, InboxMessage>;
}

let messageCounter = 0;

export class JournalInstanceStore implements InstanceStore {
  readonly #entries = new Map<string, Entry>();
  #log!: DurableLog<JournalRecord & Record<string, unknown>>;

  private constructor() {}

  /** Opens (or creates) `<dir>/<taskHub>.journal` and replays it. */
  static async open(options: { dir: string; taskHub: string }): Promise<JournalInstanceStore> {
    const store = new JournalInstanceStore();
    const opened = await DurableLog.open<JournalRecord & Record<string, unknown>>(join(options.dir, `${options.taskHub}.journal`), {
      snapshot: () => store.#snapshot(),
      liveCount: () => store.#liveCount(),
    });
    for (const r of opened.records) store.#apply(r);
    store.#log = opened.log;
    return store;
  }

  async close(): Promise<void> {
    await this.#log.close();
  }

  #snapshot(): Array<JournalRecord & Record<string, unknown>> {
    const out: Array<JournalRecord & Record<string, unknown>> = [];
    for (const [id, e] of this.#entries) {
      out.push({ t: 'create', row: e.row }, { t: 'hist', id, events: e.history });
      for (const [key, message] of e.inbox) out.push({ t: 'msg', id, key, message });
    }
    return out;
  }

  #liveCount(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += 2 + e.inbox.size;
    return n;
  }

  #apply(r: JournalRecord): void {
    switch (r.t) {
      case 'create':
        this.#entries.set(r.row.instanceId, { row: r.row, history: [], inbox: new Map() });
        return;
      case 'hist': {
        const e = this.#entries.get(r.id);
        if (e) e.history = r.events.slice();
        return;
      }
      case 'commit': {
        const e = this.#entries.get(r.row.instanceId);
        if (!e) return;
        // A new execution (continue-as-new) starts its history at 0.
        e.history = e.history.slice(0, r.start).concat(r.events);
        e.row = r.row;
        for (const k of r.drop) e.inbox.delete(k);
        return;
      }
      case 'msg':
        this.#entries.get(r.id)?.inbox.set(r.key, r.message);
        return;
      case 'drop': {
        const e = this.#entries.get(r.id);
        for (const k of r.keys) e?.inbox.delete(k);
        return;
      }
    }
  }

  /** Applies, journals and waits for the disk: the caller's acknowledgement follows only a durable change. */
  async #record(r: JournalRecord): Promise<void> {
    this.#apply(r);
    this.#log.append(r as JournalRecord & Record<string, unknown>);
    try {
      await this.#log.durable();
    } catch (e) {
      throw new KarsError('STORE_UNAVAILABLE', 'the durable runner journal could not be written', { cause: e });
    }
  }

  #copy(row: Row): InstanceRecord {
    return { ...row };
  }

  async create(record: Omit<InstanceRecord, 'etag'>): Promise<void> {
    const existing = this.#entries.get(record.instanceId);
    if (existing && (existing.row.runtimeStatus === 'Pending' || existing.row.runtimeStatus === 'Running')) {
      throw new KarsError('ORCHESTRATION_INSTANCE_EXISTS', 'an orchestration with this instance id is still running');
    }
    // Replacing a finished instance drops its history and inbox (events are refused while it is finished).
    await this.#record({ t: 'create', row: { ...record, etag: String(Number(existing?.row.etag ?? 0) + 1) } });
  }

  async readInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const e = this.#entries.get(instanceId);
    return e ? this.#copy(e.row) : undefined;
  }

  async load(instanceId: string): Promise<LoadedInstance | undefined> {
    const e = this.#entries.get(instanceId);
    if (!e) return undefined;
    const messages: StoredInboxMessage[] = [...e.inbox].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rowKey, message]) => ({ rowKey, message }));
    return { instance: this.#copy(e.row), history: e.history.slice(), messages };
  }

  async commit(current: InstanceRecord, input: CommitInput): Promise<string> {
    if (input.deleteMessages.length > MAX_MESSAGES_PER_COMMIT) throw new RangeError('too many inbox messages for one commit');
    const e = this.#entries.get(current.instanceId);
    if (!e || e.row.etag !== input.etag || input.deleteMessages.some((k) => !e.inbox.has(k))) {
      throw new KarsError('STORE_PRECONDITION_FAILED', 'orchestration instance changed concurrently');
    }
    const { etag: _etag, ...rest } = { ...current, ...input.patch };
    const row: Row = { ...rest, etag: String(Number(e.row.etag) + 1) };
    await this.#record({ t: 'commit', row, start: input.historyStart, events: [...input.events], drop: [...input.deleteMessages] });
    return row.etag;
  }

  async appendMessage(instanceId: string, message: InboxMessage, nowMs: number): Promise<void> {
    if (!this.#entries.has(instanceId)) throw new KarsError('ORCHESTRATION_NOT_FOUND', 'no orchestration instance with that id');
    messageCounter = (messageCounter + 1) % 1_000_000;
    const key = `m-${String(nowMs).padStart(15, '0')}-${String(messageCounter).padStart(6, '0')}`;
    await this.#record({ t: 'msg', id: instanceId, key, message });
  }

  async dropMessages(instanceId: string, rowKeys: readonly string[]): Promise<void> {
    const e = this.#entries.get(instanceId);
    const keys = rowKeys.filter((k) => e?.inbox.has(k));
    if (keys.length > 0) await this.#record({ t: 'drop', id: instanceId, keys });
  }

  async listActive(): Promise<Array<Pick<InstanceRecord, 'instanceId' | 'runtimeStatus' | 'nextWakeAtMs'>>> {
    return [...this.#entries.values()]
      .filter((e) => e.row.runtimeStatus === 'Pending' || e.row.runtimeStatus === 'Running')
      .map((e) => ({ instanceId: e.row.instanceId, runtimeStatus: e.row.runtimeStatus, ...(e.row.nextWakeAtMs !== undefined ? { nextWakeAtMs: e.row.nextWakeAtMs } : {}) }));
  }

  async listInstancesWithMessages(): Promise<string[]> {
    return [...this.#entries].filter(([, e]) => e.inbox.size > 0).map(([id]) => id);
  }
}
