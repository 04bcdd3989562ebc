// The one schema for `POST /api/rollouts` (start a sandbox rollout); semantic checks (duplicates, sizes) follow in
// core/rollouts/plan-rollout.ts.
import { z } from 'zod';
import { REVISION_ID_PATTERN, ROLLOUT_LIMITS, SANDBOX_ID_PATTERN } from '../../core/rollouts/plan-rollout';

/** Rollout instance ids are chosen by callers for idempotent retries; same alphabet as generated ones. */
export const ROLLOUT_INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** 1000 DNS-label ids plus a 32 KiB spec fit comfortably. */
export const MAX_ROLLOUT_REQUEST_BYTES = 160 * 1024;

export const startRolloutSchema = z.strictObject({
  instanceId: z.string().regex(ROLLOUT_INSTANCE_ID_PATTERN).optional(),
  revision: z.strictObject({
    id: z.string().regex(REVISION_ID_PATTERN),
    spec: z.record(z.string(), z.unknown()),
  }),
  sandboxIds: z.array(z.string().regex(SANDBOX_ID_PATTERN)).min(1).max(ROLLOUT_LIMITS.maxSandboxes),
  maxUnavailable: z.union([z.number().int().min(1).max(ROLLOUT_LIMITS.maxSandboxes), z.string().regex(/^\d{1,3}%$/)]).optional(),
  canarySize: z.number().int().min(0).max(ROLLOUT_LIMITS.maxSandboxes).optional(),
  failureThreshold: z.number().int().min(0).max(ROLLOUT_LIMITS.maxSandboxes).optional(),
  health: z
    .strictObject({
      intervalMs: z.number().int().min(ROLLOUT_LIMITS.minHealthIntervalMs).max(ROLLOUT_LIMITS.maxHealthIntervalMs).optional(),
      maxChecks: z.number().int().min(1).max(ROLLOUT_LIMITS.maxHealthChecks).optional(),
    })
    .optional(),
  applyRetry: z
    .strictObject({
      intervalMs: z.number().int().min(ROLLOUT_LIMITS.minRetryIntervalMs).max(ROLLOUT_LIMITS.maxRetryIntervalMs).optional(),
      maxAttempts: z.number().int().min(1).max(ROLLOUT_LIMITS.maxApplyAttempts).optional(),
    })
    .optional(),
  approval: z
    .strictObject({
      batches: z.array(z.number().int().min(1).max(ROLLOUT_LIMITS.maxSandboxes)).max(ROLLOUT_LIMITS.maxSandboxes),
      timeoutMs: z.number().int().min(ROLLOUT_LIMITS.minApprovalTimeoutMs).max(ROLLOUT_LIMITS.maxApprovalTimeoutMs).optional(),
    })
    .optional(),
});

/** `POST /api/rollouts/{instanceId}/approve`: the batch the operator saw waiting (so a late click never approves the next). */
export const approveRolloutSchema = z.strictObject({
  batch: z.number().int().min(1).max(ROLLOUT_LIMITS.maxSandboxes),
});

export type StartRolloutBody = z.infer<typeof startRolloutSchema>;

export const rolloutInstanceIdSchema = z.string().regex(ROLLOUT_INSTANCE_ID_PATTERN);
