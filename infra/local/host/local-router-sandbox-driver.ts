// LOCAL STAND-IN for the AKS SandboxDriver: applies a revision by asking the stack's router supervisor
// (infra/local/stack/router-control-server.ts) to restart the demo router with it, and reads health from the router's
// own /healthz (a router counts as healthy only when it answers and names the revision it was started with).
import { KarsError } from '../../../core/errors';
import type {
  ApplyRevisionResult,
  SandboxDriver,
  SandboxDriverCallOptions,
  SandboxHealthReport,
  SandboxRevision,
} from '../../../core/ports/sandbox-driver.port';

export interface LocalRouterDriverOptions {
  controlUrl: string;
  controlKey: string;
  /** Per call. Default 10000 ms. */
  timeoutMs?: number;
}

interface ControlStatus {
  url: string;
  revisionId: string | null;
  process: 'starting' | 'running' | 'exited';
}

export class LocalRouterSandboxDriver implements SandboxDriver {
  constructor(private readonly options: LocalRouterDriverOptions) {}

  async #control(path: string, init: RequestInit, options?: SandboxDriverCallOptions): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    const signal = options?.abortSignal ? AbortSignal.any([timeout, options.abortSignal]) : timeout;
    try {
      return await fetch(`${this.options.controlUrl}${path}`, {
        ...init, signal, headers: { ...init.headers, authorization: `Bearer ${this.options.controlKey}` },
      });
    } catch (e) {
      if (timeout.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', 'router supervisor did not answer in time');
      throw new KarsError('DEPENDENCY_UNAVAILABLE', `router supervisor unreachable (${e instanceof Error ? e.name : 'error'})`);
    }
  }

  async applyRevision(sandboxId: string, revision: SandboxRevision, options?: SandboxDriverCallOptions): Promise<ApplyRevisionResult> {
    const r = await this.#control(`/sandboxes/${encodeURIComponent(sandboxId)}/revision`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: revision.id, spec: revision.spec }),
    }, options);
    if (r.status === 404) throw new KarsError('SANDBOX_NOT_FOUND', 'no sandbox with that id');
    if (r.status === 400) throw new KarsError('INPUT_INVALID', 'the router supervisor refused the revision');
    if (!r.ok) throw new KarsError('DEPENDENCY_UNAVAILABLE', `router supervisor answered ${r.status}`);
    const body = (await r.json()) as { previous: SandboxRevision | null };
    return { sandboxId, previous: body.previous ?? null };
  }

  async readHealth(sandboxId: string, options?: SandboxDriverCallOptions): Promise<SandboxHealthReport> {
    const r = await this.#control(`/sandboxes/${encodeURIComponent(sandboxId)}`, { method: 'GET' }, options);
    if (r.status === 404) return { sandboxId, revisionId: null, status: 'missing' };
    if (!r.ok) throw new KarsError('DEPENDENCY_UNAVAILABLE', `router supervisor answered ${r.status}`);
    const s = (await r.json()) as ControlStatus;
    if (s.process === 'exited') return { sandboxId, revisionId: s.revisionId, status: 'degraded', reason: 'ProcessExited' };
    if (s.process === 'starting') return { sandboxId, revisionId: s.revisionId, status: 'progressing', reason: 'Starting' };
    let health: Response;
    try {
      health = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch {
      return { sandboxId, revisionId: s.revisionId, status: 'progressing', reason: 'NotAnswering' };
    }
    const body = (await health.json().catch(() => ({}))) as { status?: string; sandboxId?: string; revision?: string };
    if (health.status !== 200 || body.status !== 'ok' || body.sandboxId !== sandboxId) {
      return { sandboxId, revisionId: s.revisionId, status: 'progressing', reason: 'NotReady' };
    }
    // The revision comes from the router itself: a process that kept running an older one never counts as rolled.
    return { sandboxId, revisionId: body.revision ?? null, status: 'healthy' };
  }
}
