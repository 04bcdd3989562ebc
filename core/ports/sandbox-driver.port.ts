// Applies a sandbox spec revision to one sandbox and reads its health; the rollout orchestration drives the fleet
// through this port only (Kubernetes adapter in production, a labelled in-memory stand-in locally).

/** A spec revision: an immutable id plus the spec it stands for (opaque to the rollout logic). */
export interface SandboxRevision {
  /** Stable id, e.g. a content digest or `v42`. */
  id: string;
  spec: Readonly<Record<string, unknown>>;
}

/**
 * healthy: running the reported revision and ready; progressing: rolling, not ready yet; degraded: failed for good
 * at this revision (crash loop, image pull error); missing: no such sandbox any more.
 */
export type SandboxHealthStatus = 'healthy' | 'progressing' | 'degraded' | 'missing';

export interface SandboxHealthReport {
  sandboxId: string;
  /** Revision the sandbox currently runs, null when unknown. */
  revisionId: string | null;
  status: SandboxHealthStatus;
  /** Short stable reason such as `CrashLoopBackOff`; never free text from the workload. */
  reason?: string;
}

export interface ApplyRevisionResult {
  sandboxId: string;
  /**
   * The revision the sandbox ran before this one (what a rollback re-applies), null for a sandbox that had none.
   * Applying the revision a sandbox already runs must return the revision recorded when it was first applied,
   * so a retried or replayed apply never loses the rollback target.
   */
  previous: SandboxRevision | null;
}

export interface SandboxDriverCallOptions {
  abortSignal?: AbortSignal;
}

export interface SandboxDriver {
  /**
   * Idempotent: re-applying the same revision changes nothing.
   * @throws KarsError SANDBOX_NOT_FOUND | DEPENDENCY_UNAVAILABLE | DEPENDENCY_TIMEOUT
   */
  applyRevision(sandboxId: string, revision: SandboxRevision, options?: SandboxDriverCallOptions): Promise<ApplyRevisionResult>;
  /** @throws KarsError DEPENDENCY_UNAVAILABLE | DEPENDENCY_TIMEOUT (a missing sandbox reports status 'missing') */
  readHealth(sandboxId: string, options?: SandboxDriverCallOptions): Promise<SandboxHealthReport>;
}
