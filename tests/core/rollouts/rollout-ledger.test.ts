// Rollout ledger: health verdicts, the failure threshold, rollback targets and the progress / result shapes.
import { describe, expect, it } from 'vitest';
import { planRollout, type RolloutPlan } from '../../../core/rollouts/plan-rollout';
import { applyRetryDelayMs, classifyHealth, RolloutLedger } from '../../../core/rollouts/rollout-ledger';
import type { SandboxRevision } from '../../../core/ports/sandbox-driver.port';

const v1: SandboxRevision = { id: 'v1', spec: { image: 'agent:1' } };

function plan(n: number, failureThreshold = 0, maxUnavailable = 2): RolloutPlan {
  const p = planRollout({ revision: { id: 'v2', spec: {} }, sandboxIds: Array.from({ length: n }, (_, i) => `s${i}`), failureThreshold, maxUnavailable });
  if (!p.ok) throw new Error(p.message);
  return p.value;
}

describe('classifyHealth', () => {
  it('counts healthy only at the target revision', () => {
    expect(classifyHealth({ sandboxId: 'a', revisionId: 'v2', status: 'healthy' }, 'v2')).toBe('healthy');
    expect(classifyHealth({ sandboxId: 'a', revisionId: 'v1', status: 'healthy' }, 'v2')).toBe('pending');
    expect(classifyHealth({ sandboxId: 'a', revisionId: null, status: 'healthy' }, 'v2')).toBe('pending');
    expect(classifyHealth({ sandboxId: 'a', revisionId: 'v2', status: 'progressing' }, 'v2')).toBe('pending');
    expect(classifyHealth({ sandboxId: 'a', revisionId: 'v2', status: 'degraded' }, 'v2')).toBe('failed');
    expect(classifyHealth({ sandboxId: 'a', revisionId: null, status: 'missing' }, 'v2')).toBe('failed');
  });
});

describe('applyRetryDelayMs', () => {
  it('doubles per attempt and is capped', () => {
    expect([1, 2, 3].map((a) => applyRetryDelayMs(a, 100))).toEqual([100, 200, 400]);
    expect(applyRetryDelayMs(40, 1000)).toBe(5 * 60_000);
  });
});

describe('RolloutLedger', () => {
  it('halts only once failures exceed the threshold', () => {
    const l = new RolloutLedger(plan(4, 1));
    l.markApplied('s0', v1);
    l.markFailed('s0', 'CrashLoopBackOff');
    expect(l.exceedsFailureThreshold()).toBe(false);
    l.markFailed('s1', 'SANDBOX_NOT_FOUND');
    expect(l.exceedsFailureThreshold()).toBe(true);
  });

  it('rolls back every applied sandbox that has a previous revision, failed ones included, once', () => {
    const l = new RolloutLedger(plan(5));
    l.markApplied('s0', v1);
    l.markHealthy('s0');
    l.markApplied('s1', v1);
    l.markFailed('s1', 'CrashLoopBackOff');
    l.markApplied('s2', null);
    l.markFailed('s3', 'DEPENDENCY_UNAVAILABLE'); // never applied
    expect(l.rollbackTargets()).toEqual([
      { sandboxId: 's0', previous: v1 },
      { sandboxId: 's1', previous: v1 },
    ]);
    expect(l.unrestorable()).toEqual(['s2']);
    l.markRolledBack('s0');
    expect(l.rollbackTargets().map((t) => t.sandboxId)).toEqual(['s1']);
  });

  it('reports progress and a result that keep failures visible after rollback', () => {
    const l = new RolloutLedger(plan(4));
    l.markApplied('s0', v1);
    l.markHealthy('s0');
    l.markApplied('s1', v1);
    l.markFailed('s1', 'CrashLoopBackOff');
    expect(l.progress('verifying', 1)).toEqual({
      phase: 'verifying', revisionId: 'v2', total: 4, done: 1, failed: 1, currentBatch: 1, batches: 2, rolledBack: 0, wave: { size: 2, done: 1, failed: 1 },
    });
    l.markRolledBack('s0');
    l.markRollbackFailed('s1', 'health-timeout');
    expect(l.progress('rolled-back', 1, 'failure-threshold')).toMatchObject({ done: 0, failed: 1, rolledBack: 1, haltReason: 'failure-threshold' });
    expect(l.result('RolledBack', 'failure-threshold')).toEqual({
      outcome: 'RolledBack',
      revisionId: 'v2',
      total: 4,
      succeeded: [],
      failed: [{ sandboxId: 's1', reason: 'CrashLoopBackOff' }],
      rolledBack: ['s0'],
      rollbackFailed: [{ sandboxId: 's1', reason: 'health-timeout' }],
      haltReason: 'failure-threshold',
    });
  });

  it('refuses sandboxes outside the plan', () => {
    const l = new RolloutLedger(plan(2));
    expect(() => l.markHealthy('nope')).toThrow(RangeError);
  });
});
