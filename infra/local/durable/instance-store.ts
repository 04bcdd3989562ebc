// What the local Durable runner needs from its storage: the Azure Storage table store (shared by runners, Azurite
// locally) or the journal store (one process, every change on disk before it is acknowledged).
import type { CommitInput, HistoryCache, InboxMessage, InstanceRecord, LoadedInstance } from './table-instance-store';

export interface InstanceStore {
  /** @throws KarsError ORCHESTRATION_INSTANCE_EXISTS | STORE_UNAVAILABLE */
  create(record: Omit<InstanceRecord, 'etag'>): Promise<void>;
  readInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  load(instanceId: string, cache?: HistoryCache): Promise<LoadedInstance | undefined>;
  /** @throws KarsError STORE_PRECONDITION_FAILED | STORE_UNAVAILABLE */
  commit(current: InstanceRecord, input: CommitInput): Promise<string>;
  appendMessage(instanceId: string, message: InboxMessage, nowMs: number): Promise<void>;
  dropMessages(instanceId: string, rowKeys: readonly string[]): Promise<void>;
  listActive(): Promise<Array<Pick<InstanceRecord, 'instanceId' | 'runtimeStatus' | 'nextWakeAtMs'>>>;
  listInstancesWithMessages(): Promise<string[]>;
  close?(): Promise<void>;
}
