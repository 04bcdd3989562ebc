// MeshOutcome → HTTP: `{ code, message }` for refusals (Retry-After on 429), the body as is otherwise; unknown errors
// are bugs (500, logged without detail) and dependency failures keep their code with a fixed message.
import type { HttpResponseInit } from '@azure/functions';
import { isKarsError } from '../../core/errors';
import type { MeshOutcome } from '../../core/mesh/mesh-outcome';
import type { Logger } from '../../core/ports/logger.port';
import { errorResponse, jsonResponse } from '../http/json-response';

export function meshResponse(outcome: MeshOutcome): HttpResponseInit {
  if (outcome.ok) return outcome.status === 204 ? { status: 204, headers: { 'cache-control': 'no-store' } } : jsonResponse(outcome.status, outcome.body);
  const headers: Record<string, string> = outcome.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))) };
  return errorResponse(outcome.code, outcome.message, headers);
}

export function meshErrorResponse(e: unknown, logger: Logger, route: string): HttpResponseInit {
  if (isKarsError(e)) {
    logger.warn('mesh.failed', { route, code: e.code });
    return errorResponse(e.code, e.code === 'INPUT_INVALID' ? e.message : 'dependency unavailable');
  }
  logger.error('mesh.failed', { route, code: 'INTERNAL' });
  return errorResponse('INTERNAL', 'internal error');
}
