// Per-sandbox bookkeeping of one rollout: what was applied (and what to roll back to), what is healthy, what failed,
// and the progress/outcome shapes operators read. Pure and deterministic, so orchestrator replays rebuild it exactly.
import type { SandboxHealthReport, SandboxRevision } from '../ports/sandbox-driver.port';
import { ROLLOUT_LIMITS, type RolloutPlan } from './plan-rollout';

export type SandboxRolloutState = 'waiting' | 'applied' | 'healthy' | 'failed';
export type SandboxRollbackState = 'rolled-back' | 'rollback-failed';

export interface SandboxRolloutRecord {
  sandboxId: string;
  /** 1-based batch number. */
  batch: number;
  state: SandboxRolloutState;
  /** Set once the new revision was applied: what a rollback re-applies (null: nothing to go back to). */
  previous?: SandboxRevision | null;
  /** Stable reason when failed: an error code or a health reason. */
  reason?: string;
  rollback?: SandboxRollbackState;
  rollbackReason?: string;
}

export type RolloutPhase =
  | 'awaiting-approval' | 'applying' | 'verifying' | 'rolling-back' | 'succeeded' | 'completed-with-failures' | 'rolled-back';
export type RolloutHaltReason = 'failure-threshold' | 'aborted' | 'approval-timeout';

/** What `GET /api/rollouts/{id}` shows while the rollout runs (the orchestration's customStatus). */
export interface RolloutProgress {
  phase: RolloutPhase;
  revisionId: string;
  total: number;
  /** Sandboxes healthy at the new revision. */
  done: number;
  failed: number;
  currentBatch: number;
  batches: number;
  rolledBack: number;
  haltReason?: RolloutHaltReason;
  /** Set while the rollout waits for an operator to approve this batch (1-based). */
  awaitingApproval?: number;
  /** The current batch: its size and how many of it are healthy or failed (what `kars rollout status` draws). */
  wave?: { size: number; done: number; failed: number };
}

export type RolloutOutcome = 'Succeeded' | 'CompletedWithFailures' | 'RolledBack';

export interface RolloutResult {
  outcome: RolloutOutcome;
  revisionId: string;
  total: number;
  succeeded: string[];
  failed: Array<{ sandboxId: string; reason: string }>;
  rolledBack: string[];
  rollbackFailed: Array<{ sandboxId: string; reason: string }>;
  haltReason?: RolloutHaltReason;
}

export type HealthVerdict = 'healthy' | 'pending' | 'failed';

/** A sandbox counts as healthy only when it reports healthy AT the target revision. */
export function classifyHealth(report: SandboxHealthReport, targetRevisionId: string): HealthVerdict {
  if (report.status === 'degraded' || report.status === 'missing') return 'failed';
  if (report.status === 'healthy' && report.revisionId === targetRevisionId) return 'healthy';
  return 'pending';
}

/** Exponential back-off between apply attempts: interval, 2x, 4x ... capped. attempt is 1-based (the failed attempt). */
export function applyRetryDelayMs(attempt: number, intervalMs: number): number {
  return Math.min(intervalMs * 2 ** Math.max(0, attempt - 1), ROLLOUT_LIMITS.maxRetryIntervalMs);
}

export class RolloutLedger {
  readonly #records = new Map<string, SandboxRolloutRecord>();
  readonly #order: string[] = [];

  constructor(readonly plan: RolloutPlan) {
    plan.batches.forEach((ids, i) => {
      for (const sandboxId of ids) {
        this.#records.set(sandboxId, { sandboxId, batch: i + 1, state: 'waiting' });
        this.#order.push(sandboxId);
      }
    });
  }

  get(sandboxId: string): SandboxRolloutRecord {
    const r = this.#records.get(sandboxId);
    if (!r) throw new RangeError(`sandbox ${sandboxId} is not part of this rollout`);
    return r;
  }

  markApplied(sandboxId: string, previous: SandboxRevision | null): void {
    const r = this.get(sandboxId);
    r.state = 'applied';
    r.previous = previous;
  }

  markHealthy(sandboxId: string): void {
    this.get(sandboxId).state = 'healthy';
  }

  markFailed(sandboxId: string, reason: string): void {
    const r = this.get(sandboxId);
    r.state = 'failed';
    r.reason = reason;
  }

  markRolledBack(sandboxId: string): void {
    this.get(sandboxId).rollback = 'rolled-back';
  }

  markRollbackFailed(sandboxId: string, reason: string): void {
    const r = this.get(sandboxId);
    r.rollback = 'rollback-failed';
    r.rollbackReason = reason;
  }

  #ids(pred: (r: SandboxRolloutRecord) => boolean): string[] {
    return this.#order.filter((id) => pred(this.get(id)));
  }

  failedCount(): number {
    return this.#ids((r) => r.state === 'failed').length;
  }

  /** One failure more than the threshold halts the rollout. */
  exceedsFailureThreshold(): boolean {
    return this.failedCount() > this.plan.failureThreshold;
  }

  /** Sandboxes that got the new revision and have something to go back to, in rollout order. */
  rollbackTargets(): Array<{ sandboxId: string; previous: SandboxRevision }> {
    const out: Array<{ sandboxId: string; previous: SandboxRevision }> = [];
    for (const id of this.#order) {
      const r = this.get(id);
      if (r.previous && r.rollback === undefined && r.state !== 'waiting') out.push({ sandboxId: id, previous: r.previous });
    }
    return out;
  }

  /** Sandboxes that got the new revision but had none before: a rollback cannot restore them. */
  unrestorable(): string[] {
    return this.#ids((r) => r.previous === null && r.state !== 'waiting');
  }

  progress(phase: RolloutPhase, currentBatch: number, haltReason?: RolloutHaltReason): RolloutProgress {
    if (phase === 'awaiting-approval') return { ...this.progress('applying', currentBatch), phase, awaitingApproval: currentBatch };
    const p: RolloutProgress = {
      phase,
      revisionId: this.plan.revision.id,
      total: this.plan.total,
      done: this.#ids((r) => r.state === 'healthy' && r.rollback === undefined).length,
      failed: this.failedCount(),
      currentBatch,
      batches: this.plan.batches.length,
      rolledBack: this.#ids((r) => r.rollback === 'rolled-back').length,
    };
    const wave = this.plan.batches[currentBatch - 1];
    if (wave) {
      const rs = wave.map((id) => this.get(id));
      p.wave = {
        size: wave.length,
        done: rs.filter((r) => r.state === 'healthy' && r.rollback === undefined).length,
        failed: rs.filter((r) => r.state === 'failed').length,
      };
    }
    if (haltReason) p.haltReason = haltReason;
    return p;
  }

  result(outcome: RolloutOutcome, haltReason?: RolloutHaltReason): RolloutResult {
    const r: RolloutResult = {
      outcome,
      revisionId: this.plan.revision.id,
      total: this.plan.total,
      succeeded: this.#ids((x) => x.state === 'healthy' && x.rollback === undefined),
      failed: this.#ids((x) => x.state === 'failed').map((sandboxId) => ({ sandboxId, reason: this.get(sandboxId).reason ?? 'unknown' })),
      rolledBack: this.#ids((x) => x.rollback === 'rolled-back'),
      rollbackFailed: this.#ids((x) => x.rollback === 'rollback-failed').map((sandboxId) => ({
        sandboxId,
        reason: this.get(sandboxId).rollbackReason ?? 'unknown',
      })),
    };
    if (haltReason) r.haltReason = haltReason;
    return r;
  }
}
