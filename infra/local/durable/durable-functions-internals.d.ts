// Types for the durable-functions@3.5.0 internals the local runner drives (the package ships no .d.ts for lib/src/*).
// Pinned exactly in package.json: these modules are private and may change in any release.

declare module 'durable-functions/lib/src/orchestrations/ReplaySchema' {
  export enum ReplaySchema {
    V1 = 0,
    V2 = 1,
    V3 = 2,
    V4 = 3,
  }
}

declare module 'durable-functions/lib/src/history/HistoryEventType' {
  export enum HistoryEventType {
    ExecutionStarted = 0,
    ExecutionCompleted = 1,
    ExecutionFailed = 2,
    ExecutionTerminated = 3,
    TaskScheduled = 4,
    TaskCompleted = 5,
    TaskFailed = 6,
    SubOrchestrationInstanceCreated = 7,
    SubOrchestrationInstanceCompleted = 8,
    SubOrchestrationInstanceFailed = 9,
    TimerCreated = 10,
    TimerFired = 11,
    OrchestratorStarted = 12,
    OrchestratorCompleted = 13,
    EventSent = 14,
    EventRaised = 15,
    ContinueAsNew = 16,
    GenericEvent = 17,
    HistoryState = 18,
    ExecutionSuspended = 19,
    ExecutionResumed = 20,
  }
}

declare module 'durable-functions/lib/src/actions/ActionType' {
  export enum ActionType {
    CallActivity = 0,
    CallActivityWithRetry = 1,
    CallSubOrchestrator = 2,
    CallSubOrchestratorWithRetry = 3,
    ContinueAsNew = 4,
    CreateTimer = 5,
    WaitForExternalEvent = 6,
    CallEntity = 7,
    CallHttp = 8,
    SignalEntity = 9,
    WhenAny = 11,
    WhenAll = 12,
    LockEntities = 13,
    ReleaseEntities = 14,
  }
}

declare module 'durable-functions/lib/src/task' {
  import type { ActionType } from 'durable-functions/lib/src/actions/ActionType';

  export enum TaskState {
    Running = 0,
    Failed = 1,
    Completed = 2,
  }

  /** The action objects the tasks carry; only the fields the runner reads. */
  export interface ActionLike {
    actionType: ActionType;
    functionName?: string;
    /** Already passed through Utils.processInput: strings arrive JSON-stringified, other values raw. */
    input?: unknown;
    fireAt?: Date;
    isCanceled?: boolean;
    externalEventName?: string;
    retryOptions?: {
      firstRetryIntervalInMilliseconds: number;
      maxNumberOfAttempts: number;
      backoffCoefficient?: number;
      maxRetryIntervalInMilliseconds?: number;
      retryTimeoutInMilliseconds?: number;
    };
  }

  export class TaskBase {
    id: number | string | false;
    readonly actionObj: ActionLike | 'noOp';
    readonly stateObj: TaskState;
    parent?: CompoundTask;
    result?: unknown;
  }
  export class DFTask extends TaskBase {
    alreadyScheduled: boolean;
  }
  export class AtomicTask extends DFTask {}
  export class DFTimerTask extends AtomicTask {
    readonly isCanceled: boolean;
  }
  export class NoOpTask extends TaskBase {}
  export class CompoundTask extends DFTask {
    children: TaskBase[];
  }
  export class WhenAllTask extends CompoundTask {}
  export class WhenAnyTask extends CompoundTask {}
  export class RetryableTask extends WhenAllTask {
    innerTask: AtomicTask;
    attemptNumber: number;
    isWaitingOnTimer: boolean;
    retryOptions: NonNullable<ActionLike['retryOptions']>;
  }
}

declare module 'durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor' {
  import type { ActionLike, TaskBase } from 'durable-functions/lib/src/task';

  export class TaskOrchestrationExecutor {
    /** Non-event tasks still waiting, keyed by sequence number (yield order; retries take numbers as they fail). */
    openTasks: Record<string, TaskBase>;
    /** External-event waits, keyed by event name. */
    openEvents: Record<string, TaskBase[]>;
    /** Every action recorded during this replay (cumulative under ReplaySchema.V1). */
    actions: ActionLike[];
    exception: unknown;
    willContinueAsNew: boolean;
    orchestratorReturned: boolean;
    output: unknown;
  }
}

declare module 'durable-functions/lib/src/orchestrations/Orchestrator' {
  import type { InvocationContext } from '@azure/functions';
  import type { OrchestrationHandler } from 'durable-functions';
  import type { TaskOrchestrationExecutor } from 'durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor';
  import type { ReplaySchema } from 'durable-functions/lib/src/orchestrations/ReplaySchema';

  /** What the Functions host passes as the orchestration trigger payload. */
  export interface OrchestrationTriggerPayload {
    history: object[];
    input: unknown;
    instanceId: string;
    isReplaying: boolean;
    parentInstanceId?: string;
    upperSchemaVersion: ReplaySchema;
    maximumShortTimerDuration?: string;
    longRunningTimerIntervalDuration?: string;
    defaultHttpAsyncRequestSleepTimeMillseconds?: number;
  }

  export interface OrchestratorStateLike {
    isDone: boolean;
    actions: unknown[];
    output: unknown;
    error?: string;
    customStatus?: unknown;
  }

  /** The class behind df.app.orchestration (createOrchestrator wraps `new Orchestrator(fn).listen()`). */
  export class Orchestrator {
    constructor(fn: OrchestrationHandler);
    /** Set by handle(): the executor that replayed this episode. */
    taskOrchestrationExecutor: TaskOrchestrationExecutor;
    handle(trigger: OrchestrationTriggerPayload, context: InvocationContext): Promise<OrchestratorStateLike>;
  }
}
