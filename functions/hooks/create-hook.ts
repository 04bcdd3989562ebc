// POST /api/manage/hooks (authLevel admin): registers a hook; the secret goes to the SecretSource, the registration
// (secret names only) to the store. The secret is never echoed back.
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { ENTITY_ID_RE, EVENT_NAME_RE, HOOK_ID_RE } from '../../core/edge/edge-ids';
import { SANDBOX_ID_PATTERN } from '../../core/rollouts/plan-rollout';
import { MAX_ALLOWED_EVENT_TYPES, MAX_HOOK_ADMIN_BODY_BYTES, validateCreateHook } from '../../core/edge/hook-registration';
import type { HookRegistry } from '../../core/ports/hook-registry.port';
import type { Logger } from '../../core/ports/logger.port';
import { redact } from '../../core/secrets/redacted';
import { WEBHOOK_CHANNELS } from '../../core/webhook/types';
import { errorResponse, jsonResponse } from '../http/json-response';
import { readJsonRequest } from '../http/read-json-request';
import { adminErrorResponse } from './admin-error';

export const createHookSchema = z.strictObject({
  hookId: z.string().regex(HOOK_ID_RE).optional(),
  tenantId: z.string().regex(ENTITY_ID_RE),
  // A Kubernetes name: the sandbox's namespace, service account subject and events queue derive from it (T1-E).
  sandboxId: z.string().regex(SANDBOX_ID_PATTERN),
  agentId: z.string().regex(ENTITY_ID_RE).optional(),
  channel: z.enum(WEBHOOK_CHANNELS),
  allowedEventTypes: z.array(z.string().regex(EVENT_NAME_RE)).min(1).max(MAX_ALLOWED_EVENT_TYPES),
  secret: z.string().min(1).max(512),
});

export function createHookHandler(deps: { registry: HookRegistry; logger: Logger }): HttpHandler {
  return async (req) => {
    const input = await readJsonRequest(req, createHookSchema, MAX_HOOK_ADMIN_BODY_BYTES);
    if (!input.ok) return input.response;
    const { secret, ...rest } = input.value;
    const hook = { ...rest, secret: redact(secret) };
    // Core's verdict carries a public message (field names and the rule, never the value); the registry checks again.
    const valid = validateCreateHook(hook);
    if (!valid.ok) return errorResponse(valid.code, valid.message);
    try {
      const registration = await deps.registry.create(hook);
      deps.logger.info('hooks.created', { hookId: registration.hookId, tenantId: registration.tenantId, channel: registration.channel });
      return jsonResponse(201, { registration }, { location: `/api/manage/hooks/${registration.hookId}` });
    } catch (e) {
      return adminErrorResponse(e, deps.logger, 'manage/hooks');
    }
  };
}
