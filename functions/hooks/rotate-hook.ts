// POST /api/manage/hooks/{hookId}/rotate (authLevel admin): a new secret becomes current; the previous one keeps
// verifying for `previousGraceSec` (default 24 h; 0 retires it at once), so senders can switch without a gap.
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { HOOK_ID_RE } from '../../core/edge/edge-ids';
import { DEFAULT_ROTATION_GRACE_SEC, MAX_HOOK_ADMIN_BODY_BYTES, MAX_ROTATION_GRACE_SEC } from '../../core/edge/hook-registration';
import type { HookRegistry } from '../../core/ports/hook-registry.port';
import type { Logger } from '../../core/ports/logger.port';
import { redact } from '../../core/secrets/redacted';
import { errorResponse, jsonResponse } from '../http/json-response';
import { readJsonRequest } from '../http/read-json-request';
import { adminErrorResponse } from './admin-error';

export const rotateHookSchema = z.strictObject({
  secret: z.string().min(1).max(512),
  previousGraceSec: z.number().int().min(0).max(MAX_ROTATION_GRACE_SEC).default(DEFAULT_ROTATION_GRACE_SEC),
});

export function rotateHookHandler(deps: { registry: HookRegistry; logger: Logger }): HttpHandler {
  return async (req) => {
    const hookId = req.params.hookId;
    if (hookId === undefined || !HOOK_ID_RE.test(hookId)) return errorResponse('NOT_FOUND', 'no such hook');
    const input = await readJsonRequest(req, rotateHookSchema, MAX_HOOK_ADMIN_BODY_BYTES);
    if (!input.ok) return input.response;
    try {
      const registration = await deps.registry.rotate(hookId, { secret: redact(input.value.secret), previousGraceSec: input.value.previousGraceSec });
      deps.logger.info('hooks.rotated', { hookId, tenantId: registration.tenantId, count: registration.secrets.length });
      return jsonResponse(200, { registration });
    } catch (e) {
      // The schema checked the grace period: what the registry still refuses is the secret for the hook's channel.
      return adminErrorResponse(e, deps.logger, 'manage/hooks/{hookId}/rotate', { INPUT_INVALID: 'the secret is unusable for this hook\'s channel' });
    }
  };
}
