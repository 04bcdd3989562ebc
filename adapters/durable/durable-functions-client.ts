// Azure mode OrchestrationClient: wraps durable-functions' DurableClient (df.getClient) for a trigger registered with
// `extraInputs: [df.input.durableClient()]`, and turns its plain Errors into stable KarsError codes.
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { KarsError, isKarsError } from '../../core/errors';
import {
  isTerminalRuntimeStatus,
  type GetOrchestrationStatusOptions,
  type OrchestrationClient,
  type OrchestrationHistoryEvent,
  type OrchestrationRuntimeStatus,
  type OrchestrationStatus,
  type StartOrchestrationOptions,
  type WaitForCompletionOptions,
} from '../../core/ports/orchestration-client.port';

/** The DurableClient reports failures as plain Errors whose text carries the extension's HTTP status. */
export function translateDurableClientError(error: unknown, what: string): KarsError {
  if (isKarsError(error)) return error;
  const message = error instanceof Error ? error.message : '';
  const status = /HTTP (\d{3})|status code:? (\d{3})/i.exec(message);
  const code = status ? Number(status[1] ?? status[2]) : undefined;
  if (code === 404 || /No instance with ID/i.test(message)) {
    return new KarsError('ORCHESTRATION_NOT_FOUND', `${what}: no orchestration instance with that id`, { cause: error });
  }
  if (code === 409) return new KarsError('ORCHESTRATION_INSTANCE_EXISTS', `${what}: instance id already in use`, { cause: error });
  if (code === 410) return new KarsError('ORCHESTRATION_NOT_RUNNING', `${what}: the orchestration has already finished`, { cause: error });
  if (code === 400) return new KarsError('INPUT_INVALID', `${what}: rejected by the Durable extension`, { cause: error });
  return new KarsError('DEPENDENCY_UNAVAILABLE', `${what}: Durable extension unavailable`, { cause: error });
}

const toIso = (d: unknown): string => (d instanceof Date ? d.toISOString() : typeof d === 'string' ? d : new Date(0).toISOString());

function toHistoryEvent(raw: unknown): OrchestrationHistoryEvent {
  const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const out: OrchestrationHistoryEvent = { eventType: String(e.EventType ?? 'Unknown'), timestamp: toIso(e.Timestamp) };
  const name = e.Name ?? e.FunctionName;
  if (typeof name === 'string') out.name = name;
  if (typeof e.EventId === 'number' && e.EventId >= 0) out.eventId = e.EventId;
  if (typeof e.TaskScheduledId === 'number') out.taskScheduledId = e.TaskScheduledId;
  if (typeof e.TimerId === 'number') out.timerId = e.TimerId;
  if (e.FireAt !== undefined) out.fireAt = toIso(e.FireAt);
  if (e.Input !== undefined) out.input = e.Input;
  if (e.Result !== undefined) out.result = e.Result;
  if (typeof e.Reason === 'string') out.reason = e.Reason;
  return out;
}

function toStatus(s: df.DurableOrchestrationStatus, showHistory: boolean): OrchestrationStatus {
  const out: OrchestrationStatus = {
    instanceId: s.instanceId,
    name: s.name,
    runtimeStatus: s.runtimeStatus as OrchestrationRuntimeStatus,
    input: s.input ?? null,
    output: s.output ?? null,
    customStatus: s.customStatus ?? null,
    createdTime: toIso(s.createdTime),
    lastUpdatedTime: toIso(s.lastUpdatedTime),
  };
  if (showHistory) out.history = Array.isArray(s.history) ? s.history.map(toHistoryEvent) : [];
  return out;
}

/**
 * @throws KarsError CONFIG_INVALID when the trigger was registered without the durable client input binding
 */
export function createDurableFunctionsClient(context: InvocationContext): OrchestrationClient {
  let client: df.DurableClient;
  try {
    client = df.getClient(context);
  } catch (e) {
    throw new KarsError('CONFIG_INVALID', 'route lacks the durable client input binding (extraInputs: [df.input.durableClient()])', { cause: e });
  }

  async function getStatus(instanceId: string, options: GetOrchestrationStatusOptions = {}): Promise<OrchestrationStatus> {
    try {
      const s = await client.getStatus(instanceId, options.showHistory ? { showHistory: true, showHistoryOutput: true, showInput: true } : { showInput: true });
      return toStatus(s, options.showHistory === true);
    } catch (e) {
      throw translateDurableClientError(e, 'get orchestration status');
    }
  }

  /** The extension answers 410 (swallowed by the SDK) for finished instances; ask first so callers get a code. */
  async function requireRunning(instanceId: string): Promise<void> {
    const s = await getStatus(instanceId);
    if (isTerminalRuntimeStatus(s.runtimeStatus)) throw new KarsError('ORCHESTRATION_NOT_RUNNING', 'the orchestration has already finished');
  }

  return {
    async startNew(name: string, options: StartOrchestrationOptions = {}): Promise<string> {
      try {
        return await client.startNew(name, { ...(options.instanceId ? { instanceId: options.instanceId } : {}), input: options.input });
      } catch (e) {
        throw translateDurableClientError(e, 'start orchestration');
      }
    },
    getStatus,
    async raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void> {
      await requireRunning(instanceId);
      try {
        await client.raiseEvent(instanceId, eventName, eventData);
      } catch (e) {
        throw translateDurableClientError(e, 'raise orchestration event');
      }
    },
    async terminate(instanceId: string, reason: string): Promise<void> {
      await requireRunning(instanceId);
      try {
        await client.terminate(instanceId, reason);
      } catch (e) {
        throw translateDurableClientError(e, 'terminate orchestration');
      }
    },
    async waitForCompletion(instanceId: string, options: WaitForCompletionOptions = {}): Promise<OrchestrationStatus> {
      const deadline = Date.now() + (options.timeoutMs ?? 30_000);
      for (;;) {
        if (options.abortSignal?.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', 'wait for orchestration aborted');
        const s = await getStatus(instanceId);
        if (isTerminalRuntimeStatus(s.runtimeStatus)) return s;
        if (Date.now() >= deadline) throw new KarsError('DEPENDENCY_TIMEOUT', 'orchestration did not finish in time');
        await new Promise((r) => setTimeout(r, options.pollIntervalMs ?? 1000));
      }
    },
  };
}
