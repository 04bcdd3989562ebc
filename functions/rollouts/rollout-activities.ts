// Rollout activities: the only place the rollout touches sandboxes (through the SandboxDriver port). They return
// results instead of throwing, so a batch's Task.all always learns which sandboxes were applied (and can roll them back).
import type { InvocationContext } from '@azure/functions';
import { isKarsError, type KarsErrorCode } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import type { SandboxDriver, SandboxHealthReport, SandboxRevision } from '../../core/ports/sandbox-driver.port';

export interface ApplySandboxRevisionInput {
  sandboxId: string;
  revision: SandboxRevision;
}

export type ApplySandboxRevisionOutput =
  | { ok: true; previous: SandboxRevision | null }
  | { ok: false; code: KarsErrorCode; retryable: boolean };

export interface ReadSandboxHealthInput {
  sandboxId: string;
}

export type ReadSandboxHealthOutput = { ok: true; report: SandboxHealthReport } | { ok: false; code: KarsErrorCode };

export interface RolloutActivityDeps {
  /** Lazy, because the Kubernetes driver is built after the Functions host loads the app. */
  getSandboxDriver(): SandboxDriver | Promise<SandboxDriver>;
  logger?: Logger;
}

/** Transient failures worth another attempt after a back-off. */
const RETRYABLE = new Set<KarsErrorCode>(['DEPENDENCY_UNAVAILABLE', 'DEPENDENCY_TIMEOUT', 'STORE_UNAVAILABLE', 'IDENTITY_UNAVAILABLE']);

function codeOf(e: unknown): KarsErrorCode {
  return isKarsError(e) ? e.code : 'INTERNAL';
}

function isInput(v: unknown): v is { sandboxId: string } {
  return typeof v === 'object' && v !== null && typeof (v as { sandboxId?: unknown }).sandboxId === 'string';
}

export function createRolloutActivities(deps: RolloutActivityDeps) {
  return {
    async applySandboxRevision(input: unknown, _context: InvocationContext): Promise<ApplySandboxRevisionOutput> {
      if (!isInput(input) || typeof (input as ApplySandboxRevisionInput).revision?.id !== 'string') {
        return { ok: false, code: 'INPUT_INVALID', retryable: false };
      }
      const { sandboxId, revision } = input as ApplySandboxRevisionInput;
      try {
        const driver = await deps.getSandboxDriver();
        const r = await driver.applyRevision(sandboxId, revision);
        return { ok: true, previous: r.previous };
      } catch (e) {
        const code = codeOf(e);
        deps.logger?.warn('rollout.apply.failed', { sandboxId, code });
        return { ok: false, code, retryable: RETRYABLE.has(code) };
      }
    },

    async readSandboxHealth(input: unknown, _context: InvocationContext): Promise<ReadSandboxHealthOutput> {
      if (!isInput(input)) return { ok: false, code: 'INPUT_INVALID' };
      try {
        const driver = await deps.getSandboxDriver();
        return { ok: true, report: await driver.readHealth(input.sandboxId) };
      } catch (e) {
        const code = codeOf(e);
        deps.logger?.warn('rollout.health.failed', { sandboxId: input.sandboxId, code });
        return { ok: false, code };
      }
    },
  };
}
