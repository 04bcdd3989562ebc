// The local Durable Functions runner: drives registered orchestrator generators through durable-functions' replay
// executor, runs activities in process, fires durable timers, delivers external events and terminations, and keeps
// every instance's state and history in Azure Storage (Azurite locally) so a restarted runner picks up where the
// last one stopped. It is the OrchestrationClient of local mode.
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { KarsError, isKarsError } from '../../../core/errors';
import { systemClock, type Clock } from '../../../core/ports/clock.port';
import { silentLogger, type Logger } from '../../../core/ports/logger.port';
import {
  isTerminalRuntimeStatus,
  type GetOrchestrationStatusOptions,
  type OrchestrationClient,
  type OrchestrationStatus,
  type StartOrchestrationOptions,
  type WaitForCompletionOptions,
} from '../../../core/ports/orchestration-client.port';
import type { Redacted } from '../../../core/secrets/redacted';
import { defaultDurableRegistry, type DurableRegistry } from '../../../adapters/durable/durable-registry';
import { HistoryEventType, historyEvents, parseJsonText, toJsonText, toPublicHistoryEvent, type StoredHistoryEvent } from './history-event';
import { replayEpisode } from './replay-episode';
import type { InstanceStore } from './instance-store';
import { JournalInstanceStore } from './journal-instance-store';
import {
  assertInstanceId,
  MAX_MESSAGES_PER_COMMIT,
  TableInstanceStore,
  type CommitInput,
  type HistoryCache,
  type InboxMessage,
  type InstanceRecord,
  type StoredInboxMessage,
} from './table-instance-store';

export interface StartLocalDurableRunnerOptions {
  /** Azure Storage connection string (Azurite locally). */
  connectionString: Redacted<string>;
  /** Default 'KarsRollouts' (host.json durableTask.hubName). */
  taskHub?: string;
  /**
   * Keep instances in a journal in this directory (fdatasync before every acknowledgement) instead of Azure Storage:
   * what the local stack uses, because Azurite saves its tables only every few seconds and a SIGKILL loses the rest.
   * One runner process owns the journal.
   */
  journalDir?: string;
  /** Where orchestrators and activities are looked up. Default: defaultDurableRegistry. */
  registry?: DurableRegistry;
  runnerId?: string;
  /** How often storage is scanned for work written by others (and missed wake-ups). Default 1000 ms; 0 disables. */
  pollIntervalMs?: number;
  /** Default 8. */
  maxConcurrentActivities?: number;
  /** How long stop() waits for running episodes and activities. Default 5000 ms. */
  stopTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

interface Slot {
  running?: Promise<void>;
  again: boolean;
  wakeTimer?: ReturnType<typeof setTimeout>;
  wakeAtMs?: number;
  cache?: HistoryCache;
}

interface EpisodePlan {
  commit: CommitInput;
  /** Activities to run once the commit has landed. */
  dispatch: StoredHistoryEvent[];
  /** History of the execution after the commit (for the cache); undefined when a new execution starts. */
  historyAfter?: StoredHistoryEvent[];
  executionId: string;
  nextWakeAtMs?: number;
  /** More inbox messages than one commit takes, or a new execution that needs its first episode. */
  again: boolean;
  finalStatus?: string;
}

const MAX_EPISODE_ATTEMPTS = 5;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

const iso = (ms: number) => new Date(ms).toISOString();

function errorInfo(e: unknown): { errorType: string; errorMessage: string } {
  if (e instanceof Error) return { errorType: e.name || 'Error', errorMessage: e.message };
  return { errorType: 'Error', errorMessage: typeof e === 'string' ? e : 'activity failed' };
}

export class LocalDurableRunner implements OrchestrationClient {
  readonly runnerId: string;
  readonly #store: InstanceStore;
  readonly #registry: DurableRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  readonly #stopTimeoutMs: number;
  readonly #maxActivities: number;
  readonly #slots = new Map<string, Slot>();
  /** instanceId|executionId pairs this runner has loaded once (orphaned activities are adopted on first touch). */
  readonly #touched = new Set<string>();
  /** instanceId|executionId|taskId of activities running here. */
  readonly #inflight = new Set<string>();
  readonly #activityRuns = new Set<Promise<void>>();
  readonly #activityQueue: Array<() => void> = [];
  #activeActivities = 0;
  #pollTimer?: ReturnType<typeof setInterval>;
  #polling = false;
  #stopping = false;

  constructor(store: InstanceStore, options: Omit<StartLocalDurableRunnerOptions, 'connectionString'>) {
    this.#store = store;
    this.runnerId = options.runnerId ?? `runner-${randomUUID().slice(0, 8)}`;
    this.#registry = options.registry ?? defaultDurableRegistry;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#maxActivities = Math.max(1, options.maxConcurrentActivities ?? 8);
  }

  /** Resumes every unfinished instance in storage and starts polling. Called by startLocalDurableRunner. */
  async start(): Promise<void> {
    await this.#poll(true);
    if (this.#pollIntervalMs > 0) {
      this.#pollTimer = setInterval(() => void this.#poll(false), this.#pollIntervalMs);
    }
    this.#logger.info('durable.runner.started', { name: this.runnerId });
  }

  /** Stops polling and timers, then waits (bounded) for running episodes and activities. Storage keeps the rest. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    for (const slot of this.#slots.values()) if (slot.wakeTimer) clearTimeout(slot.wakeTimer);
    // Queued (not started) activities stay orphaned in history; the next runner adopts them.
    this.#activityQueue.length = 0;
    const pending = [...this.#slots.values()].map((s) => s.running).filter((p): p is Promise<void> => p !== undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...pending, ...this.#activityRuns]),
      new Promise<void>((r) => {
        timer = setTimeout(r, this.#stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    await this.#store.close?.();
    this.#logger.info('durable.runner.stopped', { name: this.runnerId });
  }

  // --- OrchestrationClient -----------------------------------------------------------------------------------------

  async startNew(name: string, options: StartOrchestrationOptions = {}): Promise<string> {
    if (!this.#registry.getOrchestration(name)) throw new KarsError('INPUT_INVALID', 'no orchestrator is registered under that name');
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    assertInstanceId(instanceId);
    let inputJson: string | undefined;
    try {
      inputJson = toJsonText(options.input);
    } catch {
      throw new KarsError('INPUT_INVALID', 'orchestration input must be JSON-serialisable');
    }
    const ts = iso(this.#clock.nowMs());
    await this.#store.create({
      instanceId,
      name,
      executionId: randomUUID(),
      runtimeStatus: 'Pending',
      ...(inputJson !== undefined ? { inputJson } : {}),
      createdTime: ts,
      lastUpdatedTime: ts,
      historyLength: 0,
    });
    this.#slot(instanceId).cache = undefined;
    this.#trigger(instanceId);
    return instanceId;
  }

  async getStatus(instanceId: string, options: GetOrchestrationStatusOptions = {}): Promise<OrchestrationStatus> {
    assertInstanceId(instanceId);
    if (!options.showHistory) {
      const r = await this.#store.readInstance(instanceId);
      if (!r) throw new KarsError('ORCHESTRATION_NOT_FOUND', 'no orchestration instance with that id');
      return this.#toStatus(r);
    }
    const loaded = await this.#store.load(instanceId, this.#slots.get(instanceId)?.cache);
    if (!loaded) throw new KarsError('ORCHESTRATION_NOT_FOUND', 'no orchestration instance with that id');
    return { ...this.#toStatus(loaded.instance), history: loaded.history.map(toPublicHistoryEvent) };
  }

  async raiseEvent(instanceId: string, eventName: string, eventData?: unknown): Promise<void> {
    if (typeof eventName !== 'string' || eventName.length < 1 || eventName.length > 128) {
      throw new KarsError('INPUT_INVALID', 'eventName must be 1-128 characters');
    }
    let dataJson: string | undefined;
    try {
      dataJson = toJsonText(eventData);
    } catch {
      throw new KarsError('INPUT_INVALID', 'event data must be JSON-serialisable');
    }
    await this.#deliver(instanceId, { kind: 'EventRaised', name: eventName, ...(dataJson !== undefined ? { dataJson } : {}) });
  }

  async terminate(instanceId: string, reason: string): Promise<void> {
    await this.#deliver(instanceId, { kind: 'Terminate', reason: String(reason).slice(0, 1024) });
  }

  async waitForCompletion(instanceId: string, options: WaitForCompletionOptions = {}): Promise<OrchestrationStatus> {
    const deadline = this.#clock.nowMs() + (options.timeoutMs ?? 30_000);
    const interval = options.pollIntervalMs ?? 50;
    for (;;) {
      if (options.abortSignal?.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', 'wait for orchestration aborted');
      const status = await this.getStatus(instanceId);
      if (isTerminalRuntimeStatus(status.runtimeStatus)) return status;
      if (this.#clock.nowMs() >= deadline) throw new KarsError('DEPENDENCY_TIMEOUT', 'orchestration did not finish in time');
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  // --- internals ---------------------------------------------------------------------------------------------------

  #toStatus(r: InstanceRecord): OrchestrationStatus {
    return {
      instanceId: r.instanceId,
      name: r.name,
      runtimeStatus: r.runtimeStatus,
      input: parseJsonText(r.inputJson),
      output: parseJsonText(r.outputJson),
      customStatus: parseJsonText(r.customStatusJson),
      createdTime: r.createdTime,
      lastUpdatedTime: r.lastUpdatedTime,
    };
  }

  async #deliver(instanceId: string, message: InboxMessage): Promise<void> {
    assertInstanceId(instanceId);
    const r = await this.#store.readInstance(instanceId);
    if (!r) throw new KarsError('ORCHESTRATION_NOT_FOUND', 'no orchestration instance with that id');
    if (isTerminalRuntimeStatus(r.runtimeStatus)) throw new KarsError('ORCHESTRATION_NOT_RUNNING', 'the orchestration has already finished');
    await this.#store.appendMessage(instanceId, message, this.#clock.nowMs());
    this.#trigger(instanceId);
  }

  #slot(instanceId: string): Slot {
    let s = this.#slots.get(instanceId);
    if (!s) {
      s = { again: false };
      this.#slots.set(instanceId, s);
    }
    return s;
  }

  /** Serialises episodes per instance: a trigger during an episode runs one more episode after it. */
  #trigger(instanceId: string): void {
    if (this.#stopping) return;
    const slot = this.#slot(instanceId);
    if (slot.running) {
      slot.again = true;
      return;
    }
    slot.running = (async () => {
      try {
        do {
          slot.again = false;
          await this.#advance(instanceId, slot);
        } while (slot.again && !this.#stopping);
      } catch (e) {
        this.#logger.warn('durable.episode.failed', { instanceId, code: isKarsError(e) ? e.code : 'INTERNAL' });
      } finally {
        slot.running = undefined;
      }
    })();
  }

  #scheduleWake(instanceId: string, slot: Slot, atMs: number | undefined): void {
    if (slot.wakeTimer) clearTimeout(slot.wakeTimer);
    slot.wakeTimer = undefined;
    slot.wakeAtMs = atMs;
    if (atMs === undefined || this.#stopping) return;
    // A few ms late rather than early: an early wake finds the timer not yet due and just re-arms.
    const delay = Math.min(Math.max(0, atMs - this.#clock.nowMs()) + 2, MAX_TIMER_DELAY_MS);
    slot.wakeTimer = setTimeout(() => {
      slot.wakeTimer = undefined;
      this.#trigger(instanceId);
    }, delay);
  }

  async #advance(instanceId: string, slot: Slot): Promise<void> {
    for (let attempt = 0; attempt < MAX_EPISODE_ATTEMPTS; attempt++) {
      const loaded = await this.#store.load(instanceId, slot.cache);
      if (!loaded) {
        slot.cache = undefined;
        return;
      }
      const { instance, history, messages } = loaded;
      slot.cache = { executionId: instance.executionId, events: history };
      if (isTerminalRuntimeStatus(instance.runtimeStatus)) {
        // Finished: keep no history in memory.
        slot.cache = undefined;
        this.#scheduleWake(instanceId, slot, undefined);
        if (messages.length > 0) await this.#store.dropMessages(instanceId, messages.map((m) => m.rowKey));
        return;
      }
      const touchKey = `${instanceId}|${instance.executionId}`;
      const firstTouch = !this.#touched.has(touchKey);
      const plan = await this.#plan(instance, history, messages);
      if (!plan) {
        this.#touched.add(touchKey);
        if (firstTouch) this.#adoptOrphans(instance, history, messages);
        // A wake-up in the past with nothing done (orchestrator not registered): never spin, look again in a second.
        const at = instance.nextWakeAtMs;
        const now = this.#clock.nowMs();
        this.#scheduleWake(instanceId, slot, at === undefined ? undefined : at > now ? at : now + 1000);
        return;
      }
      try {
        await this.#store.commit(instance, plan.commit);
      } catch (e) {
        if (isKarsError(e) && e.code === 'STORE_PRECONDITION_FAILED') continue;
        // The commit may have landed even though we saw an error: re-adopt on the next load.
        this.#touched.delete(touchKey);
        throw e;
      }
      slot.cache = plan.historyAfter && !plan.finalStatus ? { executionId: plan.executionId, events: plan.historyAfter } : undefined;
      this.#touched.add(touchKey);
      if (firstTouch) this.#adoptOrphans(instance, history, messages);
      for (const ev of plan.dispatch) this.#dispatch(instanceId, plan.executionId, ev);
      this.#scheduleWake(instanceId, slot, plan.nextWakeAtMs);
      if (plan.finalStatus) {
        this.#logger.info('durable.instance.finished', { instanceId, orchestration: instance.name, state: plan.finalStatus });
      }
      if (plan.again) slot.again = true;
      return;
    }
    this.#logger.warn('durable.episode.contended', { instanceId });
  }

  /** Builds this episode's commit; undefined when nothing new happened (no message, no due timer, not started). */
  async #plan(instance: InstanceRecord, history: StoredHistoryEvent[], messages: StoredInboxMessage[]): Promise<EpisodePlan | undefined> {
    const now = this.#clock.nowMs();
    const ts = iso(now);
    const consumed = messages.slice(0, MAX_MESSAGES_PER_COMMIT);
    const base = { etag: instance.etag, historyStart: history.length, deleteMessages: consumed.map((m) => m.rowKey) };

    const terminate = consumed.find((m) => m.message.kind === 'Terminate');
    if (terminate && terminate.message.kind === 'Terminate') {
      const events = [historyEvents.orchestratorStarted(ts), historyEvents.executionTerminated(ts, terminate.message.reason)];
      return {
        commit: {
          ...base,
          events,
          patch: {
            runtimeStatus: 'Terminated', outputJson: JSON.stringify(terminate.message.reason), lastUpdatedTime: ts,
            historyLength: history.length + events.length, nextWakeAtMs: undefined,
          },
        },
        dispatch: [],
        historyAfter: [...history, ...events],
        executionId: instance.executionId,
        again: false,
        finalStatus: 'Terminated',
      };
    }

    const inbound: StoredHistoryEvent[] = [];
    if (history.length === 0) inbound.push(historyEvents.executionStarted(ts, instance.name, instance.inputJson));
    const scheduled = new Set<number>();
    const completed = new Set<number>();
    const fired = new Set<number>();
    for (const e of history) {
      if (e.EventType === HistoryEventType.TaskScheduled) scheduled.add(e.EventId);
      if ((e.EventType === HistoryEventType.TaskCompleted || e.EventType === HistoryEventType.TaskFailed) && e.TaskScheduledId !== undefined) {
        completed.add(e.TaskScheduledId);
      }
      if (e.EventType === HistoryEventType.TimerFired && e.TimerId !== undefined) fired.add(e.TimerId);
    }
    for (const { message: m } of consumed) {
      if (m.kind === 'EventRaised') inbound.push(historyEvents.eventRaised(ts, m.name, m.dataJson));
      else if (m.kind === 'TaskCompleted' || m.kind === 'TaskFailed') {
        // Duplicates (an activity run twice) and completions of an older execution are dropped.
        if (m.executionId !== instance.executionId || !scheduled.has(m.taskScheduledId) || completed.has(m.taskScheduledId)) continue;
        completed.add(m.taskScheduledId);
        inbound.push(
          m.kind === 'TaskCompleted'
            ? historyEvents.taskCompleted(ts, m.taskScheduledId, m.resultJson)
            : historyEvents.taskFailed(ts, m.taskScheduledId, m.errorType, m.errorMessage),
        );
      }
    }
    const due = history
      .filter((e) => e.EventType === HistoryEventType.TimerCreated && !fired.has(e.EventId) && Date.parse(e.FireAt!) <= now)
      .sort((a, b) => Date.parse(a.FireAt!) - Date.parse(b.FireAt!));
    for (const t of due) inbound.push(historyEvents.timerFired(ts, t.EventId, t.FireAt!));

    if (inbound.length === 0 && consumed.length === 0) return undefined;
    const again = messages.length > consumed.length;
    if (inbound.length === 0) {
      // Only stale messages: delete them, nothing to replay.
      return { commit: { ...base, events: [], patch: {} }, dispatch: [], historyAfter: history, executionId: instance.executionId, nextWakeAtMs: instance.nextWakeAtMs, again };
    }

    const episode = [historyEvents.orchestratorStarted(ts), ...inbound];
    const orchestrator = this.#registry.getOrchestration(instance.name);
    if (!orchestrator) {
      // Registration order or a renamed orchestrator: leave the instance and its inbox untouched until it is back.
      this.#logger.warn('durable.orchestrator.missing', { instanceId: instance.instanceId, orchestration: instance.name });
      return undefined;
    }
    const replay = await replayEpisode({
      orchestrator,
      name: instance.name,
      instanceId: instance.instanceId,
      input: parseJsonText(instance.inputJson),
      history: [...history, ...episode],
      nowMs: now,
    });

    let customStatusJson: string | undefined;
    try {
      customStatusJson = toJsonText(replay.customStatus);
    } catch {
      // As in Azure: a status that cannot be serialised fails the orchestration instead of wedging the runner.
      replay.status = 'failed';
      replay.failureMessage = 'customStatus must be JSON-serialisable';
    }
    const statusPatch = customStatusJson !== undefined ? { customStatusJson } : {};
    const done = historyEvents.orchestratorCompleted(ts);

    if (replay.status === 'continuedAsNew') {
      // A new execution: fresh history and id; the next episode (again=true) starts it.
      return {
        commit: {
          ...base,
          events: [],
          patch: {
            executionId: randomUUID(), runtimeStatus: 'Running', inputJson: replay.continueAsNewInputJson, outputJson: undefined,
            lastUpdatedTime: ts, historyLength: 0, nextWakeAtMs: undefined, ...statusPatch,
          },
        },
        dispatch: [],
        executionId: instance.executionId,
        again: true,
      };
    }
    if (replay.status === 'completed' || replay.status === 'failed') {
      const completedOk = replay.status === 'completed';
      let outputJson: string | undefined;
      try {
        outputJson = completedOk ? toJsonText(replay.output) : JSON.stringify(replay.failureMessage ?? 'orchestration failed');
      } catch {
        outputJson = undefined;
      }
      const events = [
        ...episode,
        done,
        completedOk ? historyEvents.executionCompleted(ts, outputJson) : historyEvents.executionFailed(ts, replay.failureMessage ?? 'orchestration failed'),
      ];
      return {
        commit: {
          ...base,
          events,
          patch: {
            runtimeStatus: completedOk ? 'Completed' : 'Failed', outputJson, lastUpdatedTime: ts,
            historyLength: history.length + events.length, nextWakeAtMs: undefined, ...statusPatch,
          },
        },
        dispatch: [],
        historyAfter: [...history, ...events],
        executionId: instance.executionId,
        again: false,
        finalStatus: completedOk ? 'Completed' : 'Failed',
      };
    }

    const events = [...episode, ...replay.scheduled, done];
    const all = [...history, ...events];
    const live = new Set(replay.liveTimerIds);
    let nextWakeAtMs: number | undefined;
    for (const e of all) {
      if (e.EventType === HistoryEventType.TimerCreated && live.has(e.EventId)) {
        const at = Date.parse(e.FireAt!);
        if (nextWakeAtMs === undefined || at < nextWakeAtMs) nextWakeAtMs = at;
      }
    }
    return {
      commit: {
        ...base,
        events,
        patch: { runtimeStatus: 'Running', lastUpdatedTime: ts, historyLength: all.length, nextWakeAtMs, ...statusPatch },
      },
      dispatch: replay.scheduled.filter((e) => e.EventType === HistoryEventType.TaskScheduled),
      historyAfter: all,
      executionId: instance.executionId,
      nextWakeAtMs,
      again,
    };
  }

  /** Activities scheduled in history whose result never arrived (a runner stopped or crashed mid-way). */
  #adoptOrphans(instance: InstanceRecord, history: StoredHistoryEvent[], messages: StoredInboxMessage[]): void {
    const answered = new Set<number>();
    for (const e of history) if (e.TaskScheduledId !== undefined) answered.add(e.TaskScheduledId);
    for (const { message: m } of messages) {
      if ((m.kind === 'TaskCompleted' || m.kind === 'TaskFailed') && m.executionId === instance.executionId) answered.add(m.taskScheduledId);
    }
    for (const e of history) {
      if (e.EventType === HistoryEventType.TaskScheduled && !answered.has(e.EventId)) this.#dispatch(instance.instanceId, instance.executionId, e);
    }
  }

  #dispatch(instanceId: string, executionId: string, scheduled: StoredHistoryEvent): void {
    const key = `${instanceId}|${executionId}|${scheduled.EventId}`;
    if (this.#inflight.has(key) || this.#stopping) return;
    this.#inflight.add(key);
    const run = new Promise<void>((resolve) => {
      this.#activityQueue.push(() => {
        this.#activeActivities++;
        this.#runActivity(instanceId, executionId, scheduled)
          .catch(() => {
            // Could not report the result: let the next load of this execution adopt it again.
            this.#touched.delete(`${instanceId}|${executionId}`);
            this.#logger.warn('durable.activity.unreported', { instanceId, name: scheduled.Name });
          })
          .finally(() => {
            this.#inflight.delete(key);
            this.#activeActivities--;
            this.#pump();
            resolve();
          });
      });
      this.#pump();
    });
    this.#activityRuns.add(run);
    void run.finally(() => this.#activityRuns.delete(run));
  }

  #pump(): void {
    while (this.#activeActivities < this.#maxActivities && this.#activityQueue.length > 0) this.#activityQueue.shift()!();
  }

  async #runActivity(instanceId: string, executionId: string, scheduled: StoredHistoryEvent): Promise<void> {
    const name = scheduled.Name ?? '';
    const taskScheduledId = scheduled.EventId;
    const handler = this.#registry.getActivity(name);
    let message: InboxMessage;
    if (!handler) {
      message = { kind: 'TaskFailed', executionId, taskScheduledId, errorType: 'ActivityNotFound', errorMessage: `activity ${name} is not registered` };
    } else {
      try {
        const context = new InvocationContext({
          invocationId: randomUUID(),
          functionName: name,
          logHandler: () => undefined,
          options: { trigger: df.trigger.activity(), extraInputs: [], extraOutputs: [] },
        });
        const result = await handler(scheduled.Input === undefined ? undefined : JSON.parse(scheduled.Input), context);
        // The executor JSON.parses every result; undefined has no JSON form, so it travels as null.
        message = { kind: 'TaskCompleted', executionId, taskScheduledId, resultJson: JSON.stringify(result ?? null) };
      } catch (e) {
        message = { kind: 'TaskFailed', executionId, taskScheduledId, ...errorInfo(e) };
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#store.appendMessage(instanceId, message, this.#clock.nowMs());
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
    this.#trigger(instanceId);
  }

  /** Finds work written by others or missed (new instances, inbox rows, due timers) and re-arms wake-ups. */
  async #poll(resumeAll: boolean): Promise<void> {
    if (this.#polling || this.#stopping) return;
    this.#polling = true;
    try {
      const now = this.#clock.nowMs();
      for (const r of await this.#store.listActive()) {
        const slot = this.#slot(r.instanceId);
        if (slot.running) continue;
        const unknown = slot.cache === undefined;
        const due = r.nextWakeAtMs !== undefined && r.nextWakeAtMs <= now;
        if (resumeAll || unknown || due || r.runtimeStatus === 'Pending') this.#trigger(r.instanceId);
        else if (r.nextWakeAtMs !== slot.wakeAtMs) this.#scheduleWake(r.instanceId, slot, r.nextWakeAtMs);
      }
      for (const id of await this.#store.listInstancesWithMessages()) this.#trigger(id);
    } catch (e) {
      this.#logger.warn('durable.poll.failed', { code: isKarsError(e) ? e.code : 'INTERNAL' });
      if (resumeAll) throw e;
    } finally {
      this.#polling = false;
    }
  }
}

/**
 * Opens the store (creating the table and container), resumes every unfinished instance and starts polling.
 * @throws KarsError STORE_UNAVAILABLE when storage does not answer
 */
export async function startLocalDurableRunner(options: StartLocalDurableRunnerOptions): Promise<LocalDurableRunner> {
  const taskHub = options.taskHub ?? 'KarsRollouts';
  const store = options.journalDir !== undefined
    ? await JournalInstanceStore.open({ dir: options.journalDir, taskHub })
    : await TableInstanceStore.open({ connectionString: options.connectionString, taskHub });
  const runner = new LocalDurableRunner(store, options);
  await runner.start();
  return runner;
}
