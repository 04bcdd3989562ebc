// LOCAL STAND-IN for the sandbox Deployments of AKS: owns the demo sandboxes' router processes and restarts one with a
// new spec revision when a rollout applies it. Which revision each sandbox runs, and the one before it (the rollback
// target), is journaled (fdatasync before the apply is acknowledged), so a stack killed mid-rollout restarts every
// router at its applied revision and a resumed rollout can still roll back.
import { join } from 'node:path';
import type { SandboxRevision } from '../../../core/ports/sandbox-driver.port';
import { DurableLog } from '../journal/durable-log';
import { startChildService, type ChildService } from './child-service';
import { routerEnvOfRevision } from './router-revision-env';

export interface SupervisedSandbox {
  id: string;
  /** `127.0.0.1:<port>`; port 0 picks one at the first start and keeps it for restarts. */
  listen: string;
  /** Settings of this sandbox's router only (its audit token file, its spool). */
  env?: Record<string, string>;
}

export interface RouterSupervisorOptions {
  routerMain: string;
  dataDir: string;
  sandboxes: readonly SupervisedSandbox[];
  /** Settings every router gets (identity, Cosmos, model endpoint); a revision may override a few (router-revision-env.ts). */
  baseEnv: Record<string, string | undefined>;
  onLine?: (line: string) => void;
}

/** starting: restart under way; running: printed its listening line; exited: crashed or refused its settings. */
export type RouterProcessState = 'starting' | 'running' | 'exited';

export interface SupervisedRouterStatus {
  sandboxId: string;
  url: string;
  /** The revision the router was (or is being) started with; null before any rollout. */
  revisionId: string | null;
  process: RouterProcessState;
  pid?: number;
}

interface Revisions extends Record<string, unknown> {
  sandboxId: string;
  current: SandboxRevision | null;
  previous: SandboxRevision | null;
}

interface Slot {
  sandbox: SupervisedSandbox;
  port?: number;
  child?: ChildService;
  state: RouterProcessState;
  revisions: Revisions;
  /** Restarts of one sandbox run one after the other. */
  queue: Promise<void>;
}

export class RouterSupervisor {
  readonly #slots = new Map<string, Slot>();
  #log!: DurableLog<Revisions>;

  private constructor(readonly options: RouterSupervisorOptions) {}

  /** Reads the journal and starts every router at its recorded revision. */
  static async start(options: RouterSupervisorOptions): Promise<RouterSupervisor> {
    const s = new RouterSupervisor(options);
    const opened = await DurableLog.open<Revisions>(join(options.dataDir, 'router-revisions.log'), {
      snapshot: () => [...s.#slots.values()].map((x) => x.revisions),
      liveCount: () => s.#slots.size,
    });
    s.#log = opened.log;
    const last = new Map<string, Revisions>();
    for (const r of opened.records) last.set(r.sandboxId, r);
    for (const sandbox of options.sandboxes) {
      const revisions = last.get(sandbox.id) ?? { sandboxId: sandbox.id, current: null, previous: null };
      s.#slots.set(sandbox.id, { sandbox, state: 'starting', revisions, queue: Promise.resolve() });
    }
    for (const slot of s.#slots.values()) await s.#launch(slot);
    return s;
  }

  has(sandboxId: string): boolean {
    return this.#slots.has(sandboxId);
  }

  status(sandboxId: string): SupervisedRouterStatus | undefined {
    const slot = this.#slots.get(sandboxId);
    if (!slot) return undefined;
    return {
      sandboxId,
      url: `http://127.0.0.1:${slot.port ?? 0}`,
      revisionId: slot.revisions.current?.id ?? null,
      process: slot.state,
      ...(slot.child && slot.state !== 'exited' ? { pid: slot.child.pid } : {}),
    };
  }

  /**
   * Records the revision (durably) and restarts the router with it; resolves once recorded, not once healthy (the
   * rollout's health gate reads /healthz). Re-applying the current revision returns the recorded previous one.
   * @returns the revision the sandbox ran before, null when none; undefined for an unknown sandbox
   */
  async apply(sandboxId: string, revision: SandboxRevision): Promise<{ previous: SandboxRevision | null } | undefined> {
    const slot = this.#slots.get(sandboxId);
    if (!slot) return undefined;
    if (slot.revisions.current?.id === revision.id) {
      // Idempotent, but a router that died at this revision is started again (a retried apply after a crash).
      if (slot.state === 'exited') this.#restart(slot);
      return { previous: slot.revisions.previous };
    }
    const next: Revisions = { sandboxId, current: structuredClone(revision), previous: slot.revisions.current };
    this.#log.append(next);
    await this.#log.durable();
    slot.revisions = next;
    this.#restart(slot);
    return { previous: next.previous };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#slots.values()].map(async (slot) => {
      await slot.queue;
      await slot.child?.stop();
    }));
    await this.#log.close();
  }

  #restart(slot: Slot): void {
    slot.state = 'starting';
    slot.queue = slot.queue.then(async () => {
      await slot.child?.stop();
      slot.child = undefined;
      await this.#launch(slot);
    });
  }

  async #launch(slot: Slot): Promise<void> {
    const { sandbox } = slot;
    const host = sandbox.listen.slice(0, sandbox.listen.lastIndexOf(':'));
    const listen = slot.port !== undefined ? `${host}:${slot.port}` : sandbox.listen;
    const revision = slot.revisions.current;
    slot.state = 'starting';
    try {
      const child = await startChildService(`router ${sandbox.id}`, this.options.routerMain, {
        env: { ...this.options.baseEnv, ...sandbox.env, ...routerEnvOfRevision(revision), KARS_ROUTER_LISTEN: listen, KARS_SANDBOX_ID: sandbox.id },
        readyTimeoutMs: 20_000,
        ...(this.options.onLine ? { onLine: this.options.onLine } : {}),
        onExit: () => {
          if (slot.child === child) slot.state = 'exited';
        },
      });
      slot.child = child;
      slot.port = child.port;
      slot.state = 'running';
    } catch {
      // Refused its settings or crashed before listening: the health gate reports it degraded.
      slot.state = 'exited';
    }
  }
}
