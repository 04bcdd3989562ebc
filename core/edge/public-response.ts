// What a sender sees (T1-S, T1-I): every authentication failure gets the same 401 body, dependency failures a generic
// 503, other refusals `{ code, message }`. Precise codes stay in receipts and logs.
import type { EdgeOutcome } from './edge-types';
import { GENERIC_AUTH_MESSAGE } from './authenticate-webhook';

export interface PublicEdgeResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text. */
  readonly body: string;
}

export const GENERIC_AUTH_BODY = JSON.stringify({ code: 'AUTH_REQUIRED', message: GENERIC_AUTH_MESSAGE });

export function publicResponse(outcome: EdgeOutcome): PublicEdgeResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  switch (outcome.kind) {
    case 'accepted':
      return { status: 202, headers, body: JSON.stringify({ receiptId: outcome.receiptId }) };
    case 'answered':
      return { status: 200, headers, body: outcome.body };
    case 'rejected': {
      if (outcome.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000)));
      // The rest of an over-long body is still on the wire: do not try to reuse this connection.
      if (outcome.status === 413 || outcome.closeConnection === true) headers.connection = 'close';
      if (outcome.status === 401) return { status: 401, headers, body: GENERIC_AUTH_BODY };
      if (outcome.status >= 500) {
        const code = outcome.status === 500 ? 'INTERNAL' : 'DEPENDENCY_UNAVAILABLE';
        return { status: outcome.status, headers, body: JSON.stringify({ code, message: 'temporarily unavailable, retry later' }) };
      }
      return { status: outcome.status, headers, body: JSON.stringify({ code: outcome.code, message: outcome.message }) };
    }
    default:
      throw new TypeError('unknown edge outcome');
  }
}
