// Runs one orchestration episode through durable-functions' own Orchestrator + TaskOrchestrationExecutor (the code
// the Functions host runs) and turns the executor's open tasks into the history events the runner must schedule.
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { Orchestrator } from 'durable-functions/lib/src/orchestrations/Orchestrator';
import { ReplaySchema } from 'durable-functions/lib/src/orchestrations/ReplaySchema';
import { ActionType } from 'durable-functions/lib/src/actions/ActionType';
import { DFTimerTask, NoOpTask, RetryableTask, type ActionLike, type TaskBase } from 'durable-functions/lib/src/task';
import { HistoryEventType, historyEvents, type StoredHistoryEvent } from './history-event';

export interface ReplayEpisodeInput {
  orchestrator: df.OrchestrationHandler;
  name: string;
  instanceId: string;
  /** The orchestration input, already parsed (the host passes parsed JSON). */
  input: unknown;
  /** Committed history plus this episode's inbound events, starting with this episode's OrchestratorStarted. */
  history: readonly StoredHistoryEvent[];
  nowMs: number;
  logHandler?: (level: string, ...args: unknown[]) => void;
}

export type ReplayStatus = 'running' | 'completed' | 'failed' | 'continuedAsNew';

export interface ReplayEpisodeResult {
  status: ReplayStatus;
  /** TaskScheduled / TimerCreated events for tasks the orchestrator is now waiting on and history does not know yet. */
  scheduled: StoredHistoryEvent[];
  /** Timers (by id) still awaited and not cancelled: the runner wakes the instance for the earliest. */
  liveTimerIds: number[];
  output?: unknown;
  /** Input of the next generation when status is continuedAsNew, as JSON text. */
  continueAsNewInputJson?: string;
  failureMessage?: string;
  customStatus?: unknown;
}

/** Action types the local runner executes; anything else fails the instance with a clear message. */
const SUPPORTED_ACTIONS = new Set<ActionType>([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CreateTimer,
  ActionType.WaitForExternalEvent,
  ActionType.ContinueAsNew,
  ActionType.WhenAll,
  ActionType.WhenAny,
]);

interface CompoundActionLike extends ActionLike {
  compoundActions?: ActionLike[];
}

function findUnsupported(actions: readonly CompoundActionLike[]): ActionType | undefined {
  for (const a of actions) {
    if (!SUPPORTED_ACTIONS.has(a.actionType)) return a.actionType;
    if (a.compoundActions) {
      const inner = findUnsupported(a.compoundActions);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** Activity input as JSON text. Quirk: Utils.processInput already JSON-stringified string inputs; others are raw. */
export function activityInputJson(action: ActionLike): string | undefined {
  if (action.input === undefined) return undefined;
  return typeof action.input === 'string' ? action.input : JSON.stringify(action.input);
}

/** Delay before retry number `nextAttempt` (2 = first retry), as the Durable extension computes it. */
export function retryDelayMs(options: NonNullable<ActionLike['retryOptions']>, nextAttempt: number): number {
  const coefficient = options.backoffCoefficient && options.backoffCoefficient > 0 ? options.backoffCoefficient : 1;
  let delay = options.firstRetryIntervalInMilliseconds * coefficient ** Math.max(0, nextAttempt - 2);
  if (options.maxRetryIntervalInMilliseconds && options.maxRetryIntervalInMilliseconds > 0) {
    delay = Math.min(delay, options.maxRetryIntervalInMilliseconds);
  }
  return delay;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

export async function replayEpisode(args: ReplayEpisodeInput): Promise<ReplayEpisodeResult> {
  const { history } = args;
  let lastStarted = -1;
  history.forEach((e, i) => {
    if (e.EventType === HistoryEventType.OrchestratorStarted) lastStarted = i;
  });
  // Fresh copies: the library turns Timestamp strings into Dates in place. IsPlayed marks earlier episodes' events.
  const wireHistory = history.map((e, i) => ({ ...e, IsPlayed: i < lastStarted }));

  const orchestrator = new Orchestrator(args.orchestrator);
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: args.name,
    logHandler: args.logHandler ?? (() => undefined),
    options: { trigger: df.trigger.orchestration(), extraInputs: [], extraOutputs: [] },
  });

  let threw: unknown;
  try {
    await orchestrator.handle(
      {
        history: wireHistory,
        input: args.input,
        instanceId: args.instanceId,
        isReplaying: false,
        // V1 is what DurableOrchestrationInput defaults to: cumulative actions, no long-timer splitting.
        upperSchemaVersion: ReplaySchema.V1,
      },
      context,
    );
  } catch (e) {
    threw = e;
  }
  const executor = orchestrator.taskOrchestrationExecutor;
  const dfContext = (context as unknown as { df?: { customStatus?: unknown } }).df;
  const customStatus = dfContext?.customStatus;

  if (executor === undefined) {
    // The binding was rejected before the executor ran (a runner bug, not the orchestrator's).
    return { status: 'failed', scheduled: [], liveTimerIds: [], failureMessage: errorMessage(threw), customStatus };
  }
  if (executor.exception !== undefined) {
    return { status: 'failed', scheduled: [], liveTimerIds: [], failureMessage: errorMessage(executor.exception), customStatus };
  }
  if (threw !== undefined) {
    return { status: 'failed', scheduled: [], liveTimerIds: [], failureMessage: errorMessage(threw), customStatus };
  }
  const unsupported = findUnsupported(executor.actions as CompoundActionLike[]);
  if (unsupported !== undefined) {
    return {
      status: 'failed', scheduled: [], liveTimerIds: [], customStatus,
      failureMessage: `the local Durable runner does not support ${ActionType[unsupported] ?? unsupported}`,
    };
  }
  if (executor.willContinueAsNew) {
    const can = executor.actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    return { status: 'continuedAsNew', scheduled: [], liveTimerIds: [], continueAsNewInputJson: can ? activityInputJson(can) : undefined, customStatus };
  }
  if (executor.orchestratorReturned) {
    return { status: 'completed', scheduled: [], liveTimerIds: [], output: executor.output, customStatus };
  }

  // Still running: every open non-event task needs a scheduling event in history, keyed by the executor's own
  // sequence number (the id its completion event must carry).
  const known = new Map<number, StoredHistoryEvent>();
  const fired = new Set<number>();
  for (const e of history) {
    if (e.EventType === HistoryEventType.TaskScheduled || e.EventType === HistoryEventType.TimerCreated) known.set(e.EventId, e);
    if (e.EventType === HistoryEventType.TimerFired && e.TimerId !== undefined) fired.add(e.TimerId);
  }
  const ts = new Date(args.nowMs).toISOString();
  const scheduled: StoredHistoryEvent[] = [];
  const liveTimerIds: number[] = [];
  const ids = Object.keys(executor.openTasks).map(Number).sort((a, b) => a - b);
  for (const id of ids) {
    const task: TaskBase = executor.openTasks[String(id)]!;
    const existing = known.get(id);
    if (task instanceof NoOpTask) {
      // RetryableTask children: after a failure a timer, after that timer the next attempt.
      const parent = task.parent;
      if (!(parent instanceof RetryableTask)) {
        return { status: 'failed', scheduled: [], liveTimerIds: [], customStatus, failureMessage: 'the local Durable runner found an unexpected open task' };
      }
      const isTimer = parent.isWaitingOnTimer && parent.children[parent.children.length - 1] === task;
      if (isTimer) {
        if (!existing) {
          // The library wants a timer after every failure, the last one too; the last needs no actual wait.
          const exhausted = parent.attemptNumber > parent.retryOptions.maxNumberOfAttempts;
          const delay = exhausted ? 0 : retryDelayMs(parent.retryOptions, parent.attemptNumber);
          scheduled.push(historyEvents.timerCreated(ts, id, new Date(args.nowMs + delay).toISOString(), true));
        }
        if (!fired.has(id)) liveTimerIds.push(id);
      } else if (!existing) {
        const action = parent.innerTask.actionObj as ActionLike;
        scheduled.push(historyEvents.taskScheduled(ts, id, action.functionName!, activityInputJson(action)));
      }
      continue;
    }
    const action = task.actionObj;
    if (action === 'noOp') continue;
    if (action.actionType === ActionType.CreateTimer) {
      const canceled = task instanceof DFTimerTask && task.isCanceled;
      if (canceled) continue;
      if (!existing) scheduled.push(historyEvents.timerCreated(ts, id, action.fireAt!.toISOString()));
      if (!fired.has(id)) liveTimerIds.push(id);
    } else if (action.actionType === ActionType.CallActivity || action.actionType === ActionType.CallActivityWithRetry) {
      if (!existing) scheduled.push(historyEvents.taskScheduled(ts, id, action.functionName!, activityInputJson(action)));
    } else {
      return {
        status: 'failed', scheduled: [], liveTimerIds: [], customStatus,
        failureMessage: `the local Durable runner does not support ${ActionType[action.actionType] ?? action.actionType}`,
      };
    }
  }
  return { status: 'running', scheduled, liveTimerIds, customStatus };
}
