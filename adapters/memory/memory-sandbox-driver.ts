// LOCAL STAND-IN, not Kubernetes: an in-memory SandboxDriver for tests and local mode. Sandboxes "roll" instantly
// and turn healthy after a configurable number of health reads; failures and outages are scripted per sandbox.
import { KarsError, type KarsErrorCode } from '../../core/errors';
import type {
  ApplyRevisionResult,
  SandboxDriver,
  SandboxHealthReport,
  SandboxRevision,
} from '../../core/ports/sandbox-driver.port';

export interface MemorySandboxBehaviour {
  /** While the sandbox runs this revision id it reports `degraded` (reason CrashLoopBackOff). */
  failOnRevision?: string;
  /** Health reads answering `progressing` after an apply before `healthy`. Default: the driver's readyAfterChecks. */
  readyAfterChecks?: number;
  /** Codes thrown by the next apply calls, one per call (a scripted outage). */
  applyErrors?: KarsErrorCode[];
  /** Never turns healthy (stays `progressing`). */
  neverReady?: boolean;
}

export interface MemorySandboxDriverOptions {
  sandboxes?: ReadonlyArray<{ sandboxId: string; revision?: SandboxRevision | null }>;
  /** Default 1: the first health read after an apply already reports healthy. */
  readyAfterChecks?: number;
  /** Local mode: any unknown sandbox id exists (with no revision) on first use. Default false. */
  autoCreate?: boolean;
}

interface SandboxState {
  current: SandboxRevision | null;
  previous: SandboxRevision | null;
  readsSinceApply: number;
  behaviour: MemorySandboxBehaviour;
}

export class MemorySandboxDriver implements SandboxDriver {
  readonly #sandboxes = new Map<string, SandboxState>();
  readonly #readyAfterChecks: number;
  readonly #autoCreate: boolean;
  readonly #applies: Array<{ sandboxId: string; revisionId: string }> = [];

  constructor(options: MemorySandboxDriverOptions = {}) {
    this.#readyAfterChecks = options.readyAfterChecks ?? 1;
    this.#autoCreate = options.autoCreate ?? false;
    for (const s of options.sandboxes ?? []) this.addSandbox(s.sandboxId, s.revision ?? null);
  }

  addSandbox(sandboxId: string, revision: SandboxRevision | null = null): void {
    this.#sandboxes.set(sandboxId, { current: revision ? structuredClone(revision) : null, previous: null, readsSinceApply: 0, behaviour: {} });
  }

  setBehaviour(sandboxId: string, behaviour: MemorySandboxBehaviour): void {
    this.#state(sandboxId).behaviour = { ...behaviour, applyErrors: [...(behaviour.applyErrors ?? [])] };
  }

  /** The revision a sandbox runs now (null: none). */
  current(sandboxId: string): SandboxRevision | null {
    return this.#state(sandboxId).current;
  }

  /** Every state-changing apply, in order. */
  applies(): ReadonlyArray<{ sandboxId: string; revisionId: string }> {
    return this.#applies;
  }

  #state(sandboxId: string): SandboxState {
    let s = this.#sandboxes.get(sandboxId);
    if (!s && this.#autoCreate) {
      this.addSandbox(sandboxId);
      s = this.#sandboxes.get(sandboxId);
    }
    if (!s) throw new KarsError('SANDBOX_NOT_FOUND', 'no sandbox with that id');
    return s;
  }

  async applyRevision(sandboxId: string, revision: SandboxRevision): Promise<ApplyRevisionResult> {
    const s = this.#state(sandboxId);
    const scripted = s.behaviour.applyErrors?.shift();
    if (scripted) throw new KarsError(scripted, 'scripted sandbox driver failure');
    // Idempotent: re-applying what runs keeps the rollback target recorded at the first apply.
    if (s.current?.id === revision.id) return { sandboxId, previous: s.previous ? structuredClone(s.previous) : null };
    s.previous = s.current;
    s.current = structuredClone(revision);
    s.readsSinceApply = 0;
    this.#applies.push({ sandboxId, revisionId: revision.id });
    return { sandboxId, previous: s.previous ? structuredClone(s.previous) : null };
  }

  async readHealth(sandboxId: string): Promise<SandboxHealthReport> {
    const s = this.#sandboxes.get(sandboxId) ?? (this.#autoCreate ? this.#state(sandboxId) : undefined);
    if (!s) return { sandboxId, revisionId: null, status: 'missing' };
    const revisionId = s.current?.id ?? null;
    if (revisionId !== null && s.behaviour.failOnRevision === revisionId) {
      return { sandboxId, revisionId, status: 'degraded', reason: 'CrashLoopBackOff' };
    }
    s.readsSinceApply++;
    const ready = !s.behaviour.neverReady && s.readsSinceApply >= (s.behaviour.readyAfterChecks ?? this.#readyAfterChecks);
    return { sandboxId, revisionId, status: ready ? 'healthy' : 'progressing' };
  }
}
