// Turns a sandbox rollout request into batches and bounded knobs; pure, so the orchestrator can re-run it on every
// replay and always get the same plan.
import { fail, ok, type Result } from '../errors';
import type { SandboxRevision } from '../ports/sandbox-driver.port';

/** Kubernetes object-name rules (DNS-1123 label): the Kubernetes driver maps a sandbox id to a KarsSandbox name. */
export const SANDBOX_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Revision ids may be digests (`sha256:...`) or tags (`v42`). */
export const REVISION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const ROLLOUT_LIMITS = {
  maxSandboxes: 1000,
  /** The spec travels in every apply activity's input and so in the orchestration history: keep it small. */
  maxSpecJsonChars: 32 * 1024,
  minHealthIntervalMs: 50,
  maxHealthIntervalMs: 10 * 60_000,
  maxHealthChecks: 1000,
  minRetryIntervalMs: 10,
  maxRetryIntervalMs: 5 * 60_000,
  maxApplyAttempts: 10,
  minApprovalTimeoutMs: 50,
  maxApprovalTimeoutMs: 7 * 24 * 3600_000,
} as const;

export const ROLLOUT_DEFAULTS = {
  maxUnavailable: 1,
  canarySize: 0,
  failureThreshold: 0,
  health: { intervalMs: 5_000, maxChecks: 60 },
  applyRetry: { intervalMs: 2_000, maxAttempts: 3 },
  approvalTimeoutMs: 24 * 3600_000,
} as const;

export interface RolloutRequest {
  revision: SandboxRevision;
  /** Order matters: batches are cut in this order. */
  sandboxIds: readonly string[];
  /** Sandboxes updated at once: a count, or a percentage of the fleet such as "25%" (at least 1). */
  maxUnavailable?: number | string;
  /** Size of a first, separate batch (0 = none). */
  canarySize?: number;
  /** Failed sandboxes tolerated; one more halts the rollout and rolls every applied sandbox back. */
  failureThreshold?: number;
  health?: { intervalMs?: number; maxChecks?: number };
  applyRetry?: { intervalMs?: number; maxAttempts?: number };
  /** Batches (1-based) that start only after an operator approves them; no approval in time halts and rolls back. */
  approval?: { batches: readonly number[]; timeoutMs?: number };
}

export interface RolloutPlan {
  revision: SandboxRevision;
  batches: string[][];
  total: number;
  failureThreshold: number;
  health: { intervalMs: number; maxChecks: number };
  applyRetry: { intervalMs: number; maxAttempts: number };
  approval: { batches: number[]; timeoutMs: number };
}

type PlanResult<T> = Result<T, 'ROLLOUT_PLAN_INVALID'>;
const invalid = (message: string) => fail('ROLLOUT_PLAN_INVALID' as const, message);

function intInRange(value: unknown, field: string, min: number, max: number): PlanResult<number> {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return invalid(`${field} must be an integer in [${min}, ${max}]`);
  }
  return ok(value);
}

/** Resolves `maxUnavailable` against the fleet size; percentages round down but never below 1 (progress must be possible). */
export function resolveMaxUnavailable(value: number | string, total: number): PlanResult<number> {
  if (typeof value === 'number') {
    const n = intInRange(value, 'maxUnavailable', 1, ROLLOUT_LIMITS.maxSandboxes);
    return n.ok ? ok(Math.min(n.value, Math.max(total, 1))) : n;
  }
  const m = /^(\d{1,3})%$/.exec(value);
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct >= 1 && pct <= 100)) return invalid('maxUnavailable must be an integer or a percentage from 1% to 100%');
  return ok(Math.max(1, Math.floor((total * pct) / 100)));
}

/** Cuts ids into an optional canary batch, then batches of `batchSize`. */
export function cutBatches(ids: readonly string[], batchSize: number, canarySize: number): string[][] {
  const batches: string[][] = [];
  let i = 0;
  if (canarySize > 0) {
    batches.push(ids.slice(0, canarySize));
    i = canarySize;
  }
  for (; i < ids.length; i += batchSize) batches.push(ids.slice(i, i + batchSize));
  return batches;
}

function specJsonLength(spec: unknown): number | undefined {
  try {
    const text = JSON.stringify(spec);
    return typeof text === 'string' ? text.length : undefined;
  } catch {
    return undefined;
  }
}

/** Validates a request (already schema-checked at the edge, re-checked here because history can be replayed) and plans it. */
export function planRollout(request: RolloutRequest): PlanResult<RolloutPlan> {
  if (typeof request !== 'object' || request === null) return invalid('rollout request must be an object');
  const { revision, sandboxIds } = request;
  if (typeof revision !== 'object' || revision === null || typeof revision.id !== 'string' || !REVISION_ID_PATTERN.test(revision.id)) {
    return invalid('revision.id must match ' + REVISION_ID_PATTERN.source);
  }
  if (typeof revision.spec !== 'object' || revision.spec === null || Array.isArray(revision.spec)) {
    return invalid('revision.spec must be an object');
  }
  const specChars = specJsonLength(revision.spec);
  if (specChars === undefined || specChars > ROLLOUT_LIMITS.maxSpecJsonChars) {
    return invalid(`revision.spec must serialise to at most ${ROLLOUT_LIMITS.maxSpecJsonChars} JSON characters`);
  }
  if (!Array.isArray(sandboxIds) || sandboxIds.length < 1 || sandboxIds.length > ROLLOUT_LIMITS.maxSandboxes) {
    return invalid(`sandboxIds must list 1 to ${ROLLOUT_LIMITS.maxSandboxes} sandboxes`);
  }
  const seen = new Set<string>();
  for (const id of sandboxIds) {
    if (typeof id !== 'string' || !SANDBOX_ID_PATTERN.test(id)) return invalid('sandboxIds entries must be DNS-1123 labels');
    if (seen.has(id)) return invalid('sandboxIds must not repeat an id');
    seen.add(id);
  }
  const total = sandboxIds.length;

  const batchSize = resolveMaxUnavailable(request.maxUnavailable ?? ROLLOUT_DEFAULTS.maxUnavailable, total);
  if (!batchSize.ok) return batchSize;
  const canary = intInRange(request.canarySize ?? ROLLOUT_DEFAULTS.canarySize, 'canarySize', 0, total);
  if (!canary.ok) return canary;
  const threshold = intInRange(request.failureThreshold ?? ROLLOUT_DEFAULTS.failureThreshold, 'failureThreshold', 0, total);
  if (!threshold.ok) return threshold;
  const intervalMs = intInRange(
    request.health?.intervalMs ?? ROLLOUT_DEFAULTS.health.intervalMs, 'health.intervalMs',
    ROLLOUT_LIMITS.minHealthIntervalMs, ROLLOUT_LIMITS.maxHealthIntervalMs,
  );
  if (!intervalMs.ok) return intervalMs;
  const maxChecks = intInRange(request.health?.maxChecks ?? ROLLOUT_DEFAULTS.health.maxChecks, 'health.maxChecks', 1, ROLLOUT_LIMITS.maxHealthChecks);
  if (!maxChecks.ok) return maxChecks;
  const retryMs = intInRange(
    request.applyRetry?.intervalMs ?? ROLLOUT_DEFAULTS.applyRetry.intervalMs, 'applyRetry.intervalMs',
    ROLLOUT_LIMITS.minRetryIntervalMs, ROLLOUT_LIMITS.maxRetryIntervalMs,
  );
  if (!retryMs.ok) return retryMs;
  const attempts = intInRange(
    request.applyRetry?.maxAttempts ?? ROLLOUT_DEFAULTS.applyRetry.maxAttempts, 'applyRetry.maxAttempts', 1, ROLLOUT_LIMITS.maxApplyAttempts,
  );
  if (!attempts.ok) return attempts;
  const batches = cutBatches(sandboxIds, batchSize.value, canary.value);
  const gates = request.approval?.batches ?? [];
  if (!Array.isArray(gates) || gates.some((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 1 || b > batches.length)) {
    return invalid(`approval.batches must list batch numbers from 1 to ${batches.length}`);
  }
  const approvalTimeout = intInRange(
    request.approval?.timeoutMs ?? ROLLOUT_DEFAULTS.approvalTimeoutMs, 'approval.timeoutMs',
    ROLLOUT_LIMITS.minApprovalTimeoutMs, ROLLOUT_LIMITS.maxApprovalTimeoutMs,
  );
  if (!approvalTimeout.ok) return approvalTimeout;

  return ok({
    revision: { id: revision.id, spec: revision.spec },
    batches,
    total,
    failureThreshold: threshold.value,
    health: { intervalMs: intervalMs.value, maxChecks: maxChecks.value },
    applyRetry: { intervalMs: retryMs.value, maxAttempts: attempts.value },
    approval: { batches: [...new Set(gates)].sort((a, b) => a - b), timeoutMs: approvalTimeout.value },
  });
}
