// Maps a dependency failure of a trust route to `{ code, message }`; unknown errors are bugs (500, logged by code).
import type { HttpResponseInit } from '@azure/functions';
import { isKarsError } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import { errorResponse } from '../http/json-response';

export function trustErrorResponse(e: unknown, logger: Logger, route: string): HttpResponseInit {
  if (isKarsError(e)) {
    logger.warn('trust.route_failed', { route, code: e.code });
    // Dependency messages may name endpoints; only the code goes out.
    return errorResponse(e.code, 'dependency unavailable');
  }
  logger.error('trust.route_failed', { route, code: 'INTERNAL' });
  return errorResponse('INTERNAL', 'internal error');
}
