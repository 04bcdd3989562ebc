// Durable orchestrator `sandboxRollout`: applies a sandbox spec revision batch by batch, waits for each batch to turn
// healthy (durable timer + bounded checks), reports progress in customStatus, waits for an operator's approval before
// the batches the plan gates, and on too many failures (or an operator abort, or an approval that never came) halts
// and rolls every applied sandbox back to its previous revision. Deterministic: no clock, no I/O, no randomness here;
// everything external is an activity (tests/architecture/orchestrator-determinism.test.ts scans for it).
import type * as df from 'durable-functions';
import { planRollout, type RolloutPlan, type RolloutRequest } from '../../core/rollouts/plan-rollout';
import {
  applyRetryDelayMs,
  classifyHealth,
  RolloutLedger,
  type RolloutHaltReason,
  type RolloutResult,
} from '../../core/rollouts/rollout-ledger';
import type { SandboxRevision } from '../../core/ports/sandbox-driver.port';
import type { ApplySandboxRevisionOutput, ReadSandboxHealthOutput } from './rollout-activities';
import {
  APPLY_SANDBOX_REVISION_ACTIVITY, READ_SANDBOX_HEALTH_ACTIVITY, ROLLOUT_ABORT_EVENT, ROLLOUT_APPROVE_EVENT, type RolloutApproval,
} from './rollout-names';

type Ctx = df.OrchestrationContext;
// What the executor sends back into the generator is untyped by design.
type Step<T> = Generator<df.Task, T, any>;

interface ApplyTarget {
  sandboxId: string;
  revision: SandboxRevision;
}

/** Waits `ms` of orchestration time; with `abort`, returns true as soon as the abort event wins instead. */
function* sleep(ctx: Ctx, ms: number, abort?: df.Task): Step<boolean> {
  if (abort?.isCompleted) return true;
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + ms));
  if (!abort) {
    yield timer;
    return false;
  }
  const winner: df.Task = yield ctx.df.Task.any([timer, abort]);
  if (winner === abort || abort.isCompleted) {
    if (!timer.isCompleted) timer.cancel();
    return true;
  }
  return false;
}

/** Applies revisions in parallel, retrying transient failures with back-off; returns each sandbox's last outcome. */
function* applyRevisions(
  ctx: Ctx,
  targets: readonly ApplyTarget[],
  retry: RolloutPlan['applyRetry'],
  abort?: df.Task,
): Step<{ outcomes: Map<string, ApplySandboxRevisionOutput>; aborted: boolean }> {
  const outcomes = new Map<string, ApplySandboxRevisionOutput>();
  let pending = [...targets];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const results: ApplySandboxRevisionOutput[] = yield ctx.df.Task.all(
      pending.map((t) => ctx.df.callActivity(APPLY_SANDBOX_REVISION_ACTIVITY, { sandboxId: t.sandboxId, revision: t.revision })),
    );
    const again: ApplyTarget[] = [];
    pending.forEach((t, i) => {
      const r = results[i]!;
      outcomes.set(t.sandboxId, r);
      if (!r.ok && r.retryable && attempt < retry.maxAttempts) again.push(t);
    });
    pending = again;
    if (pending.length > 0 && (yield* sleep(ctx, applyRetryDelayMs(attempt, retry.intervalMs), abort))) {
      return { outcomes, aborted: true };
    }
  }
  return { outcomes, aborted: false };
}

interface HealthWait {
  ids: readonly string[];
  targetRevisionOf: (sandboxId: string) => string;
  onHealthy: (sandboxId: string) => void;
  onFailed: (sandboxId: string, reason: string) => void;
  /** Checked after every round: true stops waiting (the failure threshold is already exceeded). */
  stop?: () => boolean;
  afterRound?: () => void;
  abort?: df.Task;
}

/** Polls health every interval until each sandbox is healthy or failed, for at most maxChecks rounds. */
function* waitForHealth(ctx: Ctx, health: RolloutPlan['health'], w: HealthWait): Step<'done' | 'stopped' | 'aborted'> {
  let pending = [...w.ids];
  for (let round = 1; round <= health.maxChecks && pending.length > 0; round++) {
    if (yield* sleep(ctx, health.intervalMs, w.abort)) return 'aborted';
    const reports: ReadSandboxHealthOutput[] = yield ctx.df.Task.all(
      pending.map((sandboxId) => ctx.df.callActivity(READ_SANDBOX_HEALTH_ACTIVITY, { sandboxId })),
    );
    const next: string[] = [];
    pending.forEach((id, i) => {
      const r = reports[i]!;
      // A failed read is not a verdict: ask again next round.
      const verdict = r.ok ? classifyHealth(r.report, w.targetRevisionOf(id)) : 'pending';
      if (verdict === 'healthy') w.onHealthy(id);
      else if (verdict === 'failed' && r.ok) w.onFailed(id, r.report.reason ?? r.report.status);
      else next.push(id);
    });
    pending = next;
    w.afterRound?.();
    if (w.stop?.()) return 'stopped';
  }
  for (const id of pending) w.onFailed(id, 'health-timeout');
  return 'done';
}

/**
 * Waits for the operator's approval of `batch` (an approve event naming it), the abort event, or the deadline. An
 * approval naming another batch (a repeated click on an earlier one) is not this batch's approval: wait on.
 */
function* waitForApproval(ctx: Ctx, batch: number, timeoutMs: number, abort: df.Task): Step<'approved' | 'aborted' | 'timeout'> {
  if (abort.isCompleted) return 'aborted';
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + timeoutMs));
  for (;;) {
    const approve = ctx.df.waitForExternalEvent(ROLLOUT_APPROVE_EVENT);
    const winner: df.Task = yield ctx.df.Task.any([approve, timer, abort]);
    if (winner === abort || abort.isCompleted) {
      if (!timer.isCompleted) timer.cancel();
      return 'aborted';
    }
    if (winner === timer) return 'timeout';
    if ((approve.result as RolloutApproval | undefined)?.batch === batch) {
      if (!timer.isCompleted) timer.cancel();
      return 'approved';
    }
  }
}

function* rollBack(ctx: Ctx, ledger: RolloutLedger, plan: RolloutPlan, report: () => void): Step<void> {
  for (const id of ledger.unrestorable()) ledger.markRollbackFailed(id, 'no-previous-revision');
  const targets = ledger.rollbackTargets();
  if (targets.length === 0) return;
  const previousOf = new Map(targets.map((t) => [t.sandboxId, t.previous.id]));
  // No abort race here: an abort is what may have brought us here, and a rollback must run to its end.
  const { outcomes } = yield* applyRevisions(ctx, targets.map((t) => ({ sandboxId: t.sandboxId, revision: t.previous })), plan.applyRetry);
  const applied: string[] = [];
  for (const t of targets) {
    const o = outcomes.get(t.sandboxId);
    if (o?.ok) applied.push(t.sandboxId);
    else ledger.markRollbackFailed(t.sandboxId, o && !o.ok ? o.code : 'not-attempted');
  }
  report();
  yield* waitForHealth(ctx, plan.health, {
    ids: applied,
    targetRevisionOf: (id) => previousOf.get(id)!,
    onHealthy: (id) => ledger.markRolledBack(id),
    onFailed: (id, reason) => ledger.markRollbackFailed(id, reason),
    afterRound: report,
  });
}

export function* sandboxRolloutOrchestrator(ctx: Ctx): Step<RolloutResult> {
  const planned = planRollout(ctx.df.getInput() as RolloutRequest);
  // The HTTP route validates first; this guards direct starts and keeps replays honest.
  if (!planned.ok) throw new Error(`${planned.code}: ${planned.message}`);
  const plan = planned.value;
  const ledger = new RolloutLedger(plan);
  const abort = ctx.df.waitForExternalEvent(ROLLOUT_ABORT_EVENT);
  let halt: RolloutHaltReason | undefined;
  let batchNo = 0;

  for (const batch of plan.batches) {
    batchNo++;
    if (abort.isCompleted) {
      halt = 'aborted';
      break;
    }
    if (plan.approval.batches.includes(batchNo)) {
      ctx.df.setCustomStatus(ledger.progress('awaiting-approval', batchNo));
      const verdict = yield* waitForApproval(ctx, batchNo, plan.approval.timeoutMs, abort);
      if (verdict !== 'approved') {
        halt = verdict === 'aborted' ? 'aborted' : 'approval-timeout';
        break;
      }
    }
    ctx.df.setCustomStatus(ledger.progress('applying', batchNo));
    const { outcomes, aborted } = yield* applyRevisions(ctx, batch.map((sandboxId) => ({ sandboxId, revision: plan.revision })), plan.applyRetry, abort);
    const applied: string[] = [];
    for (const id of batch) {
      const o = outcomes.get(id);
      if (o?.ok) {
        ledger.markApplied(id, o.previous);
        applied.push(id);
      } else {
        ledger.markFailed(id, o && !o.ok ? o.code : 'not-attempted');
      }
    }
    if (aborted || abort.isCompleted) {
      halt = 'aborted';
      break;
    }
    if (ledger.exceedsFailureThreshold()) {
      halt = 'failure-threshold';
      break;
    }
    ctx.df.setCustomStatus(ledger.progress('verifying', batchNo));
    const waited = yield* waitForHealth(ctx, plan.health, {
      ids: applied,
      targetRevisionOf: () => plan.revision.id,
      onHealthy: (id) => ledger.markHealthy(id),
      onFailed: (id, reason) => ledger.markFailed(id, reason),
      stop: () => ledger.exceedsFailureThreshold(),
      afterRound: () => ctx.df.setCustomStatus(ledger.progress('verifying', batchNo)),
      abort,
    });
    if (waited === 'aborted' || abort.isCompleted) {
      halt = 'aborted';
      break;
    }
    if (ledger.exceedsFailureThreshold()) {
      halt = 'failure-threshold';
      break;
    }
  }

  if (halt) {
    const report = () => ctx.df.setCustomStatus(ledger.progress('rolling-back', batchNo, halt));
    report();
    yield* rollBack(ctx, ledger, plan, report);
    ctx.df.setCustomStatus(ledger.progress('rolled-back', batchNo, halt));
    return ledger.result('RolledBack', halt);
  }
  const outcome = ledger.failedCount() > 0 ? 'CompletedWithFailures' : 'Succeeded';
  ctx.df.setCustomStatus(ledger.progress(outcome === 'Succeeded' ? 'succeeded' : 'completed-with-failures', batchNo));
  return ledger.result(outcome);
}
