// GET /api/manage/hooks/{hookId} (authLevel admin): the registration as stored (secret names and retirement times,
// never values).
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { HOOK_ID_RE } from '../../core/edge/edge-ids';
import type { HookRegistry } from '../../core/ports/hook-registry.port';
import type { Logger } from '../../core/ports/logger.port';
import { errorResponse, jsonResponse } from '../http/json-response';
import { adminErrorResponse } from './admin-error';

export const getHookParamsSchema = z.strictObject({ hookId: z.string().regex(HOOK_ID_RE) });

export function getHookHandler(deps: { registry: HookRegistry; logger: Logger }): HttpHandler {
  return async (req) => {
    const params = getHookParamsSchema.safeParse({ ...req.params });
    if (!params.success) return errorResponse('NOT_FOUND', 'no such hook');
    try {
      const registration = await deps.registry.get(params.data.hookId);
      return registration === undefined ? errorResponse('NOT_FOUND', 'no such hook') : jsonResponse(200, { registration });
    } catch (e) {
      return adminErrorResponse(e, deps.logger, 'manage/hooks/{hookId}');
    }
  };
}
