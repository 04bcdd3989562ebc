// Orchestration history events in the wire shape durable-functions' executor replays (PascalCase fields, JSON text
// payloads), plus the conversion to the public `showHistory` shape.
import { HistoryEventType } from 'durable-functions/lib/src/history/HistoryEventType';
import type { OrchestrationHistoryEvent } from '../../../core/ports/orchestration-client.port';

export { HistoryEventType };

export interface FailureDetailsWire {
  ErrorType: string;
  ErrorMessage: string;
}

/** One stored history event. Payloads (Input, Result) are JSON text, exactly as the host hands them to the executor. */
export interface StoredHistoryEvent {
  EventType: HistoryEventType;
  /** Sequence number for TaskScheduled / TimerCreated; -1 otherwise. */
  EventId: number;
  /** ISO-8601; the executor's Utils turns it into a Date. */
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  Reason?: string;
  FailureDetails?: FailureDetailsWire;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  /** Runner annotation (ignored by the executor): the timer a RetryableTask waits on between attempts. */
  RetryTimer?: boolean;
}

const base = (type: HistoryEventType, ts: string, eventId = -1): StoredHistoryEvent => ({ EventType: type, EventId: eventId, Timestamp: ts });

export const historyEvents = {
  orchestratorStarted: (ts: string) => base(HistoryEventType.OrchestratorStarted, ts),
  orchestratorCompleted: (ts: string) => base(HistoryEventType.OrchestratorCompleted, ts),
  executionStarted: (ts: string, name: string, inputJson: string | undefined): StoredHistoryEvent => ({
    ...base(HistoryEventType.ExecutionStarted, ts), Name: name, ...(inputJson !== undefined ? { Input: inputJson } : {}),
  }),
  executionCompleted: (ts: string, resultJson: string | undefined): StoredHistoryEvent => ({
    ...base(HistoryEventType.ExecutionCompleted, ts), ...(resultJson !== undefined ? { Result: resultJson } : {}),
  }),
  executionFailed: (ts: string, reason: string): StoredHistoryEvent => ({ ...base(HistoryEventType.ExecutionFailed, ts), Reason: reason }),
  executionTerminated: (ts: string, reason: string): StoredHistoryEvent => ({
    ...base(HistoryEventType.ExecutionTerminated, ts), Input: JSON.stringify(reason),
  }),
  continueAsNew: (ts: string, inputJson: string | undefined): StoredHistoryEvent => ({
    ...base(HistoryEventType.ContinueAsNew, ts), ...(inputJson !== undefined ? { Result: inputJson } : {}),
  }),
  taskScheduled: (ts: string, id: number, name: string, inputJson: string | undefined): StoredHistoryEvent => ({
    ...base(HistoryEventType.TaskScheduled, ts, id), Name: name, ...(inputJson !== undefined ? { Input: inputJson } : {}),
  }),
  taskCompleted: (ts: string, taskScheduledId: number, resultJson: string): StoredHistoryEvent => ({
    ...base(HistoryEventType.TaskCompleted, ts), TaskScheduledId: taskScheduledId, Result: resultJson,
  }),
  taskFailed: (ts: string, taskScheduledId: number, errorType: string, errorMessage: string): StoredHistoryEvent => ({
    ...base(HistoryEventType.TaskFailed, ts),
    TaskScheduledId: taskScheduledId,
    Reason: errorMessage,
    FailureDetails: { ErrorType: errorType, ErrorMessage: errorMessage },
  }),
  timerCreated: (ts: string, id: number, fireAt: string, retryTimer = false): StoredHistoryEvent => ({
    ...base(HistoryEventType.TimerCreated, ts, id), FireAt: fireAt, ...(retryTimer ? { RetryTimer: true } : {}),
  }),
  timerFired: (ts: string, timerId: number, fireAt: string): StoredHistoryEvent => ({
    ...base(HistoryEventType.TimerFired, ts), TimerId: timerId, FireAt: fireAt,
  }),
  eventRaised: (ts: string, name: string, inputJson: string | undefined): StoredHistoryEvent => ({
    ...base(HistoryEventType.EventRaised, ts), Name: name, ...(inputJson !== undefined ? { Input: inputJson } : {}),
  }),
};

/** JSON text → value; undefined stays undefined, unparseable text is returned as is (it was a plain string). */
export function parseJsonText(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** value → JSON text; undefined stays undefined (the host sends no payload then). */
export function toJsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

export function toPublicHistoryEvent(e: StoredHistoryEvent): OrchestrationHistoryEvent {
  const out: OrchestrationHistoryEvent = { eventType: HistoryEventType[e.EventType] ?? String(e.EventType), timestamp: e.Timestamp };
  if (e.EventId >= 0) out.eventId = e.EventId;
  if (e.Name !== undefined) out.name = e.Name;
  if (e.TaskScheduledId !== undefined) out.taskScheduledId = e.TaskScheduledId;
  if (e.TimerId !== undefined) out.timerId = e.TimerId;
  if (e.FireAt !== undefined) out.fireAt = e.FireAt;
  if (e.Input !== undefined) out.input = parseJsonText(e.Input);
  if (e.Result !== undefined) out.result = parseJsonText(e.Result);
  if (e.Reason !== undefined) out.reason = e.Reason;
  return out;
}
