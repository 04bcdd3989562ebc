// Maps a registry failure to the admin API's `{ code, message }` response through the shared route error mapping:
// hook-specific texts for the store's codes, never the error's own message.
import type { HttpResponseInit } from '@azure/functions';
import type { KarsErrorCode } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import { routeErrorResponse } from '../http/route-error';

const HOOK_MESSAGES: Partial<Record<KarsErrorCode, string>> = {
  STORE_CONFLICT: 'a hook with this id exists',
  STORE_NOT_FOUND: 'no such hook',
  STORE_PRECONDITION_FAILED: 'the hook changed concurrently; retry',
  INPUT_INVALID: 'the hook registration is invalid',
};

/** @param messages this route's texts, over the hook texts */
export function adminErrorResponse(e: unknown, logger: Logger, route: string, messages: Partial<Record<KarsErrorCode, string>> = {}): HttpResponseInit {
  return routeErrorResponse(e, { route, logger, messages: { ...HOOK_MESSAGES, ...messages } });
}
