// Keeps local Durable instances, their history and their inbox in Azure Storage (one table partition per instance,
// Azurite locally) through the real @azure/data-tables and @azure/storage-blob SDKs, so orchestrations survive a
// restart. Every commit is an entity-group transaction conditioned on the instance row's ETag: two runners can never
// both advance one instance.
import { randomUUID } from 'node:crypto';
import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { ContainerClient } from '@azure/storage-blob';
import { KarsError } from '../../../core/errors';
import type { OrchestrationRuntimeStatus } from '../../../core/ports/orchestration-client.port';
import type { Redacted } from '../../../core/secrets/redacted';
import { createBlobServiceClient, createTableClient } from '../../../adapters/storage/storage-clients';
import { translateStorageError } from '../../../adapters/storage/translate-storage-error';
import type { StoredHistoryEvent } from './history-event';

const INSTANCE_ROW = 'instance';
const HISTORY_PREFIX = 'h-';
const MESSAGE_PREFIX = 'm-';
/** Table string properties hold 32 Ki UTF-16 units; larger payloads go to a blob and the row keeps its name. */
const MAX_INLINE_CHARS = 30_000;
/** Entity-group transactions take at most 100 operations. */
const MAX_TRANSACTION_OPS = 100;
/** Inbox messages consumed per commit, so one commit (instance row + deletes + history rows) fits a transaction. */
export const MAX_MESSAGES_PER_COMMIT = 40;

export interface InstanceRecord {
  instanceId: string;
  name: string;
  /** Changes on every start and continue-as-new; completions of older executions are dropped. */
  executionId: string;
  runtimeStatus: OrchestrationRuntimeStatus;
  inputJson?: string;
  outputJson?: string;
  customStatusJson?: string;
  createdTime: string;
  lastUpdatedTime: string;
  historyLength: number;
  /** Earliest live timer (ms since epoch), for wake-ups after a restart. */
  nextWakeAtMs?: number;
  etag: string;
}

export type InboxMessage =
  | { kind: 'EventRaised'; name: string; dataJson?: string }
  | { kind: 'TaskCompleted'; executionId: string; taskScheduledId: number; resultJson: string }
  | { kind: 'TaskFailed'; executionId: string; taskScheduledId: number; errorType: string; errorMessage: string }
  | { kind: 'Terminate'; reason: string };

export interface StoredInboxMessage {
  rowKey: string;
  message: InboxMessage;
}

export interface LoadedInstance {
  instance: InstanceRecord;
  history: StoredHistoryEvent[];
  messages: StoredInboxMessage[];
}

export interface HistoryCache {
  executionId: string;
  events: StoredHistoryEvent[];
}

export type InstancePatch = Partial<Omit<InstanceRecord, 'instanceId' | 'etag' | 'createdTime'>>;

export interface CommitInput {
  etag: string;
  /** Index of the first new event (the current historyLength, or 0 for a new execution). */
  historyStart: number;
  events: readonly StoredHistoryEvent[];
  patch: InstancePatch;
  deleteMessages: readonly string[];
}

export interface OpenTableInstanceStoreOptions {
  connectionString: Redacted<string>;
  /** Task hub name (letters and digits, starts with a letter); the table is `<hub>LocalRunner`. */
  taskHub: string;
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

const historyKey = (i: number) => HISTORY_PREFIX + String(i).padStart(10, '0');

/** Instance ids become table partition keys and blob path segments: keep them to a safe alphabet. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function assertInstanceId(instanceId: string): void {
  if (typeof instanceId !== 'string' || !INSTANCE_ID_PATTERN.test(instanceId)) {
    throw new KarsError('INPUT_INVALID', 'instanceId must match ' + INSTANCE_ID_PATTERN.source);
  }
}

let messageCounter = 0;

export class TableInstanceStore {
  readonly #table: TableClient;
  readonly #payloads: ContainerClient;

  private constructor(table: TableClient, payloads: ContainerClient) {
    this.#table = table;
    this.#payloads = payloads;
  }

  /** Opens (and creates if needed) the table and the payload container. @throws KarsError STORE_UNAVAILABLE | INPUT_INVALID */
  static async open(options: OpenTableInstanceStoreOptions): Promise<TableInstanceStore> {
    if (!/^[A-Za-z][A-Za-z0-9]{2,50}$/.test(options.taskHub)) {
      throw new KarsError('INPUT_INVALID', 'taskHub must be 3-51 letters and digits, starting with a letter');
    }
    const table = createTableClient(options.connectionString, `${options.taskHub}LocalRunner`);
    const container = createBlobServiceClient(options.connectionString).getContainerClient(
      `${options.taskHub.toLowerCase()}-local-payloads`,
    );
    try {
      await table.createTable();
      await container.createIfNotExists();
    } catch (e) {
      throw translateStorageError(e, 'open durable store');
    }
    return new TableInstanceStore(table, container);
  }

  // --- payload offload -------------------------------------------------------------------------------------------

  async #putField(entity: Entity, field: string, text: string | undefined): Promise<void> {
    // Absent properties are removed by a Replace, which is how a field is cleared.
    if (text === undefined) return;
    if (text.length <= MAX_INLINE_CHARS) {
      entity[field] = text;
      return;
    }
    // A fresh blob name per write: a runner that loses the ETag race can never overwrite what the winner references.
    const blobName = `${encodeURIComponent(entity.partitionKey)}/${field}-${randomUUID()}`;
    await this.#payloads.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    entity[`${field}Blob`] = blobName;
  }

  async #getField(entity: Record<string, unknown>, field: string): Promise<string | undefined> {
    const inline = entity[field];
    if (typeof inline === 'string') return inline;
    const blob = entity[`${field}Blob`];
    if (typeof blob !== 'string') return undefined;
    const buf = await this.#payloads.getBlockBlobClient(blob).downloadToBuffer();
    return buf.toString('utf8');
  }

  // --- rows ------------------------------------------------------------------------------------------------------

  async #instanceEntity(r: Omit<InstanceRecord, 'etag'>): Promise<Entity> {
    const e: Entity = {
      partitionKey: r.instanceId,
      rowKey: INSTANCE_ROW,
      Name: r.name,
      ExecutionId: r.executionId,
      RuntimeStatus: r.runtimeStatus,
      CreatedTime: r.createdTime,
      LastUpdatedTime: r.lastUpdatedTime,
      HistoryLength: r.historyLength,
    };
    if (r.nextWakeAtMs !== undefined) e.NextWakeAtMs = r.nextWakeAtMs;
    await this.#putField(e, 'Input', r.inputJson);
    await this.#putField(e, 'Output', r.outputJson);
    await this.#putField(e, 'CustomStatus', r.customStatusJson);
    return e;
  }

  async #toInstance(e: TableEntityResult<Record<string, unknown>>): Promise<InstanceRecord> {
    const r: InstanceRecord = {
      instanceId: e.partitionKey!,
      name: String(e.Name),
      executionId: String(e.ExecutionId),
      runtimeStatus: e.RuntimeStatus as OrchestrationRuntimeStatus,
      createdTime: String(e.CreatedTime),
      lastUpdatedTime: String(e.LastUpdatedTime),
      historyLength: Number(e.HistoryLength ?? 0),
      etag: e.etag,
    };
    if (typeof e.NextWakeAtMs === 'number') r.nextWakeAtMs = e.NextWakeAtMs;
    const input = await this.#getField(e, 'Input');
    if (input !== undefined) r.inputJson = input;
    const output = await this.#getField(e, 'Output');
    if (output !== undefined) r.outputJson = output;
    const status = await this.#getField(e, 'CustomStatus');
    if (status !== undefined) r.customStatusJson = status;
    return r;
  }

  async #historyEntity(instanceId: string, index: number, event: StoredHistoryEvent): Promise<Entity> {
    const e: Entity = { partitionKey: instanceId, rowKey: historyKey(index), EventType: event.EventType };
    await this.#putField(e, 'Event', JSON.stringify(event));
    return e;
  }

  // --- operations ------------------------------------------------------------------------------------------------

  /**
   * Creates the instance row; a terminal instance under the same id is replaced (a new execution).
   * @throws KarsError ORCHESTRATION_INSTANCE_EXISTS | STORE_UNAVAILABLE
   */
  async create(record: Omit<InstanceRecord, 'etag'>): Promise<void> {
    const entity = await this.#instanceEntity(record);
    try {
      await this.#table.createEntity(entity);
      return;
    } catch (e) {
      const k = translateStorageError(e, 'create orchestration instance');
      if (k.code !== 'STORE_CONFLICT') throw k;
    }
    const existing = await this.readInstance(record.instanceId);
    if (existing && (existing.runtimeStatus === 'Pending' || existing.runtimeStatus === 'Running')) {
      throw new KarsError('ORCHESTRATION_INSTANCE_EXISTS', 'an orchestration with this instance id is still running');
    }
    // Inbox rows left by the finished execution must not reach the new one (events are refused while it is finished).
    await this.dropMessages(record.instanceId, await this.#messageKeys(record.instanceId));
    try {
      // Conditional on the row we just read: a concurrent start loses with a 412.
      await this.#table.updateEntity(entity, 'Replace', existing ? { etag: existing.etag } : undefined);
    } catch (e) {
      const k = translateStorageError(e, 'create orchestration instance');
      if (k.code === 'STORE_PRECONDITION_FAILED' || k.code === 'STORE_NOT_FOUND') {
        throw new KarsError('ORCHESTRATION_INSTANCE_EXISTS', 'an orchestration with this instance id was started concurrently');
      }
      throw k;
    }
  }

  /** @throws KarsError STORE_UNAVAILABLE */
  async readInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      const e = await this.#table.getEntity<Record<string, unknown>>(instanceId, INSTANCE_ROW);
      return await this.#toInstance(e);
    } catch (e) {
      const k = translateStorageError(e, 'read orchestration instance');
      if (k.code === 'STORE_NOT_FOUND') return undefined;
      throw k;
    }
  }

  /**
   * Instance row, history and inbox in two queries. With a cache of the same execution only the missing tail of the
   * history is read (rows below historyLength never change within an execution).
   * @throws KarsError STORE_UNAVAILABLE
   */
  async load(instanceId: string, cache?: HistoryCache): Promise<LoadedInstance | undefined> {
    try {
      let instance: InstanceRecord | undefined;
      const messages: StoredInboxMessage[] = [];
      const head = this.#table.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${instanceId} and (RowKey eq ${INSTANCE_ROW} or (RowKey ge ${MESSAGE_PREFIX} and RowKey lt ${'m.'}))`,
        },
      });
      for await (const e of head) {
        if (e.rowKey === INSTANCE_ROW) instance = await this.#toInstance(e);
        else {
          const text = await this.#getField(e, 'Message');
          if (text !== undefined) messages.push({ rowKey: e.rowKey!, message: JSON.parse(text) as InboxMessage });
        }
      }
      if (!instance) return undefined;
      messages.sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));

      let history: StoredHistoryEvent[] = [];
      let from = 0;
      if (cache && cache.executionId === instance.executionId && cache.events.length <= instance.historyLength) {
        history = cache.events.slice();
        from = cache.events.length;
      }
      if (from < instance.historyLength) {
        const rows = this.#table.listEntities<Record<string, unknown>>({
          queryOptions: {
            filter: odata`PartitionKey eq ${instanceId} and RowKey ge ${historyKey(from)} and RowKey lt ${historyKey(instance.historyLength)}`,
          },
        });
        const tail: Array<[string, StoredHistoryEvent]> = [];
        for await (const e of rows) {
          const text = await this.#getField(e, 'Event');
          if (text !== undefined) tail.push([e.rowKey!, JSON.parse(text) as StoredHistoryEvent]);
        }
        tail.sort((a, b) => (a[0] < b[0] ? -1 : 1));
        history = history.concat(tail.map((t) => t[1]));
      }
      if (history.length !== instance.historyLength) {
        throw new KarsError('STORE_UNAVAILABLE', 'orchestration history is incomplete');
      }
      return { instance, history, messages };
    } catch (e) {
      throw translateStorageError(e, 'load orchestration instance');
    }
  }

  /**
   * Appends history, updates the instance row and deletes consumed inbox messages, atomically and only if the row
   * still has `etag`. Large episodes are staged in earlier transactions that also bump the row (so they too fail
   * for a runner that lost the row); rows past historyLength are invisible until the final transaction lands.
   * @returns the instance row's new ETag.
   * @throws KarsError STORE_PRECONDITION_FAILED (another runner advanced the instance) | STORE_UNAVAILABLE
   */
  async commit(current: InstanceRecord, input: CommitInput): Promise<string> {
    if (input.deleteMessages.length > MAX_MESSAGES_PER_COMMIT) throw new RangeError('too many inbox messages for one commit');
    const pk = current.instanceId;
    try {
      const historyEntities: Entity[] = [];
      for (let i = 0; i < input.events.length; i++) {
        historyEntities.push(await this.#historyEntity(pk, input.historyStart + i, input.events[i]!));
      }
      const { etag: _etag, ...rest } = { ...current, ...input.patch };
      const finalRow = await this.#instanceEntity(rest);
      let etag = input.etag;

      const finalRoom = MAX_TRANSACTION_OPS - 1 - input.deleteMessages.length;
      const staged = historyEntities.length > finalRoom ? historyEntities.slice(0, historyEntities.length - finalRoom) : [];
      const last = historyEntities.slice(staged.length);
      for (let i = 0; i < staged.length; i += MAX_TRANSACTION_OPS - 1) {
        const chunk = staged.slice(i, i + MAX_TRANSACTION_OPS - 1);
        const bump: Entity = { partitionKey: pk, rowKey: INSTANCE_ROW, StagedHistory: input.historyStart + i + chunk.length };
        const actions: TransactionAction[] = [['update', bump, 'Merge', { etag }], ...chunk.map((e): TransactionAction => ['upsert', e, 'Replace'])];
        etag = (await this.#submit(actions)) ?? etag;
      }
      const actions: TransactionAction[] = [
        ['update', finalRow, 'Replace', { etag }],
        ...last.map((e): TransactionAction => ['upsert', e, 'Replace']),
        // A delete of a message another runner already consumed fails the whole transaction (404): no double delivery.
        ...input.deleteMessages.map((rowKey): TransactionAction => ['delete', { partitionKey: pk, rowKey }]),
      ];
      const newEtag = await this.#submit(actions);
      if (newEtag === undefined) throw new KarsError('STORE_UNAVAILABLE', 'commit returned no ETag');
      return newEtag;
    } catch (e) {
      const k = translateStorageError(e, 'commit orchestration episode');
      if (k.code === 'STORE_NOT_FOUND' || k.code === 'STORE_CONFLICT') {
        throw new KarsError('STORE_PRECONDITION_FAILED', 'orchestration instance changed concurrently', { cause: e });
      }
      throw k;
    }
  }

  /** Submits a transaction whose first action updates the instance row; returns that row's new ETag. */
  async #submit(actions: TransactionAction[]): Promise<string | undefined> {
    const res = await this.#table.submitTransaction(actions);
    return res.subResponses[0]?.etag;
  }

  /** Adds a message to the instance's inbox (time-ordered row key). @throws KarsError STORE_UNAVAILABLE */
  async appendMessage(instanceId: string, message: InboxMessage, nowMs: number): Promise<void> {
    messageCounter = (messageCounter + 1) % 1_000_000;
    const rowKey = `${MESSAGE_PREFIX}${String(nowMs).padStart(15, '0')}-${String(messageCounter).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
    const e: Entity = { partitionKey: instanceId, rowKey, Kind: message.kind };
    try {
      await this.#putField(e, 'Message', JSON.stringify(message));
      await this.#table.createEntity(e);
    } catch (err) {
      throw translateStorageError(err, 'append orchestration message');
    }
  }

  async #messageKeys(instanceId: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      const rows = this.#table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${instanceId} and RowKey ge ${MESSAGE_PREFIX} and RowKey lt ${'m.'}`, select: ['RowKey'] },
      });
      for await (const e of rows) keys.push(e.rowKey!);
    } catch (e) {
      throw translateStorageError(e, 'list orchestration messages');
    }
    return keys;
  }

  /** Deletes inbox rows of a finished instance (best effort: a racing delete is fine). */
  async dropMessages(instanceId: string, rowKeys: readonly string[]): Promise<void> {
    for (const rowKey of rowKeys) {
      try {
        await this.#table.deleteEntity(instanceId, rowKey);
      } catch (e) {
        const k = translateStorageError(e, 'drop orchestration message');
        if (k.code !== 'STORE_NOT_FOUND') throw k;
      }
    }
  }

  /** Instances that are not finished (Pending or Running), for resume and polling. @throws KarsError STORE_UNAVAILABLE */
  async listActive(): Promise<Array<Pick<InstanceRecord, 'instanceId' | 'runtimeStatus' | 'nextWakeAtMs'>>> {
    const out: Array<Pick<InstanceRecord, 'instanceId' | 'runtimeStatus' | 'nextWakeAtMs'>> = [];
    try {
      const rows = this.#table.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`RowKey eq ${INSTANCE_ROW} and (RuntimeStatus eq ${'Pending'} or RuntimeStatus eq ${'Running'})`,
          select: ['PartitionKey', 'RuntimeStatus', 'NextWakeAtMs'],
        },
      });
      for await (const e of rows) {
        const r: Pick<InstanceRecord, 'instanceId' | 'runtimeStatus' | 'nextWakeAtMs'> = {
          instanceId: e.partitionKey!,
          runtimeStatus: e.RuntimeStatus as OrchestrationRuntimeStatus,
        };
        if (typeof e.NextWakeAtMs === 'number') r.nextWakeAtMs = e.NextWakeAtMs;
        out.push(r);
      }
    } catch (e) {
      throw translateStorageError(e, 'list orchestration instances');
    }
    return out;
  }

  /** Instance ids with unread inbox messages. @throws KarsError STORE_UNAVAILABLE */
  async listInstancesWithMessages(): Promise<string[]> {
    const ids = new Set<string>();
    try {
      const rows = this.#table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`RowKey ge ${MESSAGE_PREFIX} and RowKey lt ${'m.'}`, select: ['PartitionKey'] },
      });
      for await (const e of rows) ids.add(e.partitionKey!);
    } catch (e) {
      throw translateStorageError(e, 'list orchestration messages');
    }
    return [...ids];
  }
}
