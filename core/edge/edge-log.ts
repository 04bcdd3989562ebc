// The one log line per edge request (T1-I): URI without its query, header values outside the allowlist redacted, the
// precise outcome code, and ids the operator needs to find the receipt. Never bodies, secrets or signatures.
import type { LogFields } from '../ports/logger.port';
import { redactHeaders } from '../http/redact-headers';
import { uriWithoutQuery } from '../http/uri-without-query';
import type { EdgeContext, EdgeOutcome } from './edge-types';

export const EDGE_ROUTE = 'hooks/{channel}/{hookId}';

export function edgeLogFields(ctx: EdgeContext, outcome: EdgeOutcome, ms: number): LogFields {
  const { disabled } = ctx.options;
  const entries = ctx.request.headerEntries();
  const headers = disabled.has('header-redaction') ? Object.fromEntries(entries) : redactHeaders(entries);
  return {
    method: ctx.request.method,
    route: EDGE_ROUTE,
    url: disabled.has('uri-redaction') ? ctx.request.url : uriWithoutQuery(ctx.request.url),
    status: outcome.status,
    code: outcome.kind === 'rejected' ? outcome.code : undefined,
    channel: ctx.channel,
    hookId: ctx.hookId,
    tenantId: ctx.tenantId,
    deliveryId: ctx.verified !== undefined && ctx.verified.secretIndex >= 0 ? ctx.verified.deliveryId : undefined,
    receiptId: outcome.receiptId,
    ms,
    headers: JSON.stringify(headers),
  };
}
