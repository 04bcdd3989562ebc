// Maps a registry failure to the admin API's `{ code, message }` response; unknown errors are bugs (500, logged).
import type { HttpResponseInit } from '@azure/functions';
import { isKarsError } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import { errorResponse } from '../http/json-response';

const PUBLIC_MESSAGES: Partial<Record<string, string>> = {
  STORE_CONFLICT: 'a hook with this id exists',
  STORE_NOT_FOUND: 'no such hook',
  STORE_PRECONDITION_FAILED: 'the hook changed concurrently; retry',
};

export function adminErrorResponse(e: unknown, logger: Logger, route: string): HttpResponseInit {
  if (isKarsError(e)) {
    logger.warn('hooks.admin_failed', { route, code: e.code });
    // INPUT_INVALID messages from core name fields only; dependency messages may name endpoints, so they are replaced.
    const message = e.code === 'INPUT_INVALID' ? e.message : PUBLIC_MESSAGES[e.code] ?? 'dependency unavailable';
    return errorResponse(e.code, message);
  }
  logger.error('hooks.admin_failed', { route, code: 'INTERNAL' });
  return errorResponse('INTERNAL', 'internal error');
}
