// Hook registration rules (T1-S, T1-E): validation of what operators submit, the secret naming scheme, and the
// rotation policy (at most two active secrets; the previous one retires after a grace period).
import { randomBytes } from 'node:crypto';
import { fail, ok, type Result } from '../errors';
import type { CreateHookInput, HookRegistration, HookSecretRef } from '../ports/hook-registry.port';
import type { Redacted } from '../secrets/redacted';
import { validateWebhookSecret } from '../webhook/decode-secret';
import { isWebhookChannel } from '../webhook/verify-webhook';
import { isEntityId, isEventName, isHookId } from './edge-ids';

export const MAX_ALLOWED_EVENT_TYPES = 64;

/** Cap of a hook admin request body (create, rotate): a registration with its secret is far below it. */
export const MAX_HOOK_ADMIN_BODY_BYTES = 16 * 1024;

/** Longest grace a rotation may give the previous secret (30 days). */
export const MAX_ROTATION_GRACE_SEC = 30 * 86400;
export const DEFAULT_ROTATION_GRACE_SEC = 86400;

/** `hk-` + 24 hex characters from the CSPRNG. */
export function generateHookId(): string {
  return `hk-${randomBytes(12).toString('hex')}`;
}

/**
 * Key Vault name of a hook's secret. The random part means a secret write can never overwrite the secret of another
 * registration (a create racing on the same hook id, or two rotations racing): only the registration that wins its
 * store write ever points at the name.
 */
export function hookSecretName(hookId: string, revision: number, nonce: string = randomBytes(4).toString('hex')): string {
  return `whk-${hookId}-r${revision}-${nonce}`;
}

/**
 * Checks an operator's create request. Messages name the field, never its value (the secret is checked with the
 * channel's own decoder so a secret that could never verify is refused now rather than as a stream of 401s).
 */
export function validateCreateHook(input: CreateHookInput): Result<true, 'INPUT_INVALID'> {
  if (input.hookId !== undefined && !isHookId(input.hookId)) return fail('INPUT_INVALID', 'hookId must be 3-63 of A-Z a-z 0-9 -');
  if (!isEntityId(input.tenantId)) return fail('INPUT_INVALID', 'tenantId must be 1-128 of A-Z a-z 0-9 . _ -');
  if (!isEntityId(input.sandboxId)) return fail('INPUT_INVALID', 'sandboxId must be 1-128 of A-Z a-z 0-9 . _ -');
  if (input.agentId !== undefined && !isEntityId(input.agentId)) return fail('INPUT_INVALID', 'agentId must be 1-128 of A-Z a-z 0-9 . _ -');
  if (!isWebhookChannel(input.channel)) return fail('INPUT_INVALID', 'channel must be one of standard, github, slack, teams');
  const events = input.allowedEventTypes;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_ALLOWED_EVENT_TYPES || !events.every(isEventName)) {
    return fail('INPUT_INVALID', `allowedEventTypes must list 1-${MAX_ALLOWED_EVENT_TYPES} event names`);
  }
  return checkSecret(input.channel, input.secret);
}

export function checkSecret(channel: CreateHookInput['channel'], secret: Redacted<string>): Result<true, 'INPUT_INVALID'> {
  const verdict = validateWebhookSecret(channel, secret);
  return verdict.ok ? ok(true) : fail('INPUT_INVALID', `secret unusable for ${channel}: ${verdict.reason}`);
}

export function checkGraceSec(graceSec: number): Result<true, 'INPUT_INVALID'> {
  return Number.isSafeInteger(graceSec) && graceSec >= 0 && graceSec <= MAX_ROTATION_GRACE_SEC
    ? ok(true)
    : fail('INPUT_INVALID', `previousGraceSec must be an integer in 0..${MAX_ROTATION_GRACE_SEC}`);
}

/** The registration a create request becomes (the secret itself is stored separately, under `secrets[0].name`). */
export function newRegistration(input: CreateHookInput, hookId: string, nowMs: number, secretName = hookSecretName(hookId, 1)): HookRegistration {
  return {
    hookId,
    tenantId: input.tenantId,
    sandboxId: input.sandboxId,
    agentId: input.agentId ?? input.sandboxId,
    channel: input.channel,
    allowedEventTypes: [...new Set(input.allowedEventTypes)],
    secrets: [{ name: secretName, addedAtMs: nowMs }],
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    revision: 1,
  };
}

/**
 * The registration after a rotation: the new secret first; the current one kept until `now + graceSec` (dropped when
 * the grace is 0); every older secret dropped, so at most two are ever active.
 */
export function rotatedRegistration(
  current: HookRegistration,
  nowMs: number,
  graceSec: number,
  secretName = hookSecretName(current.hookId, current.revision + 1),
): HookRegistration {
  const revision = current.revision + 1;
  const fresh: HookSecretRef = { name: secretName, addedAtMs: nowMs };
  const previous = activeSecretRefs(current, nowMs)[0];
  const secrets = previous !== undefined && graceSec > 0
    ? [fresh, { name: previous.name, addedAtMs: previous.addedAtMs, retiresAtMs: nowMs + graceSec * 1000 }]
    : [fresh];
  return { ...current, secrets, updatedAtMs: nowMs, revision };
}

/** Secrets that still verify at `nowMs`, newest first. */
export function activeSecretRefs(registration: HookRegistration, nowMs: number): HookSecretRef[] {
  return registration.secrets.filter((s) => s.retiresAtMs === undefined || nowMs < s.retiresAtMs);
}
