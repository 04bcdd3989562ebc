// Maps a failure thrown while serving a route to its `{ code, message }` response (T1-I): the code is kept, the
// message is a fixed public text chosen by code, never the error's own message (it may name an endpoint, a secret
// name, a stack position or request data). The code alone goes to the log.
import type { HttpResponseInit } from '@azure/functions';
import { httpStatusOf, isKarsError, type KarsErrorCode } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import { errorResponse } from './json-response';

export interface RouteErrorOptions {
  /** The route template, for the log line. */
  route: string;
  logger?: Logger | undefined;
  /** Public texts for codes this route answers with a more precise message than the default for its status. */
  messages?: Partial<Record<KarsErrorCode, string>>;
}

const BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid request',
  401: 'authentication required',
  403: 'forbidden',
  404: 'not found',
  409: 'conflict',
  412: 'the resource changed concurrently; retry',
  413: 'request too large',
  415: 'unsupported content type',
  429: 'too many requests',
  503: 'dependency unavailable',
  504: 'dependency timed out',
};

/** The public message of `code`: the route's own text, else one per status. */
export function publicMessageOf(code: KarsErrorCode, messages: RouteErrorOptions['messages'] = {}): string {
  const status = httpStatusOf(code);
  return messages[code] ?? BY_STATUS[status] ?? (status >= 500 ? 'internal error' : 'request refused');
}

export function routeErrorResponse(e: unknown, options: RouteErrorOptions): HttpResponseInit {
  if (isKarsError(e)) {
    options.logger?.warn('route.failed', { route: options.route, code: e.code });
    return errorResponse(e.code, publicMessageOf(e.code, options.messages));
  }
  // Not a KarsError: a bug. Its text stays out of the log too (it may carry request data); the route says where.
  options.logger?.error('route.failed', { route: options.route, code: 'INTERNAL' });
  return errorResponse('INTERNAL', 'internal error');
}
