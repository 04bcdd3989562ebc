// Starts and watches Durable orchestrations (sandbox rollouts); implemented by the local runner and by the Azure
// Durable client, so HTTP handlers and the CLI never know which one is behind it.

export type OrchestrationRuntimeStatus =
  | 'Pending'
  | 'Running'
  | 'Completed'
  | 'Failed'
  | 'Terminated'
  | 'ContinuedAsNew'
  | 'Canceled'
  | 'Suspended';

/** Statuses after which an instance never changes again (until it is started anew under the same id). */
export const TERMINAL_RUNTIME_STATUSES: readonly OrchestrationRuntimeStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function isTerminalRuntimeStatus(status: OrchestrationRuntimeStatus): boolean {
  return TERMINAL_RUNTIME_STATUSES.includes(status);
}

/** One history entry, in the shape `showHistory` returns (payloads parsed from JSON). */
export interface OrchestrationHistoryEvent {
  eventType: string;
  /** ISO-8601. */
  timestamp: string;
  eventId?: number;
  /** Activity or external-event name. */
  name?: string;
  taskScheduledId?: number;
  timerId?: number;
  /** ISO-8601, timers only. */
  fireAt?: string;
  input?: unknown;
  result?: unknown;
  reason?: string;
}

export interface OrchestrationStatus {
  instanceId: string;
  /** Orchestrator function name. */
  name: string;
  runtimeStatus: OrchestrationRuntimeStatus;
  input: unknown;
  output: unknown;
  /** Whatever the orchestrator last passed to setCustomStatus (rollouts put their progress here). */
  customStatus: unknown;
  /** ISO-8601. */
  createdTime: string;
  /** ISO-8601. */
  lastUpdatedTime: string;
  history?: OrchestrationHistoryEvent[];
}

export interface StartOrchestrationOptions {
  /** Caller-chosen id (idempotent retries); generated when absent. */
  instanceId?: string;
  input?: unknown;
}

export interface GetOrchestrationStatusOptions {
  showHistory?: boolean;
}

export interface WaitForCompletionOptions {
  timeoutMs?: number;
  pollIntervalMs?: number;
  abortSignal?: AbortSignal;
}

export interface OrchestrationClient {
  /**
   * @returns the instance id.
   * @throws KarsError ORCHESTRATION_INSTANCE_EXISTS (a non-terminal instance has that id) | INPUT_INVALID | STORE_UNAVAILABLE
   */
  startNew(name: string, options?: StartOrchestrationOptions): Promise<string>;
  /** @throws KarsError ORCHESTRATION_NOT_FOUND | STORE_UNAVAILABLE */
  getStatus(instanceId: string, options?: GetOrchestrationStatusOptions): Promise<OrchestrationStatus>;
  /** @throws KarsError ORCHESTRATION_NOT_FOUND | ORCHESTRATION_NOT_RUNNING | STORE_UNAVAILABLE */
  raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void>;
  /** @throws KarsError ORCHESTRATION_NOT_FOUND | ORCHESTRATION_NOT_RUNNING | STORE_UNAVAILABLE */
  terminate(instanceId: string, reason: string): Promise<void>;
  /**
   * Resolves with the final status once the instance is terminal.
   * @throws KarsError DEPENDENCY_TIMEOUT when timeoutMs passes first | ORCHESTRATION_NOT_FOUND
   */
  waitForCompletion?(instanceId: string, options?: WaitForCompletionOptions): Promise<OrchestrationStatus>;
}
