// Maps @azure/cosmos failures to stable store codes at the adapter edge; messages carry status codes, never keys or bodies.
import { isKarsError, KarsError, type KarsErrorCode } from '../../core/errors';

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'ECONNABORTED', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR',
]);

/**
 * Cosmos status → KarsError: 409 STORE_CONFLICT, 412 STORE_PRECONDITION_FAILED, 404 STORE_NOT_FOUND, throttling,
 * timeouts, 5xx, auth failures and network errors STORE_UNAVAILABLE, any other 4xx INTERNAL (a bug in our request).
 * A KarsError passes through unchanged.
 */
export function translateCosmosError(error: unknown, operation: string): KarsError {
  if (isKarsError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown; statusCode?: unknown; substatus?: unknown; name?: unknown;
  };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const sub = typeof e.substatus === 'number' ? `/${e.substatus}` : '';
  let code: KarsErrorCode;
  if (status === 409) code = 'STORE_CONFLICT';
  else if (status === 412) code = 'STORE_PRECONDITION_FAILED';
  else if (status === 404) code = 'STORE_NOT_FOUND';
  else if (status !== undefined && (status >= 500 || status === 408 || status === 429 || status === 449 || status === 401 || status === 403)) {
    code = 'STORE_UNAVAILABLE';
  } else if (status !== undefined) code = 'INTERNAL';
  else code = 'STORE_UNAVAILABLE'; // no HTTP status: the request never completed (refused, reset, timed out, aborted)
  const detail = status !== undefined ? `status ${status}${sub}` : networkDetail(e.code, name);
  return new KarsError(code, `cosmos ${operation} failed: ${detail}`);
}

function networkDetail(code: unknown, name: string): string {
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (name === 'AbortError' || name === 'TimeoutError') return name;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : name;
}
