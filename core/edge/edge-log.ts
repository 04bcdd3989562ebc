// The one log line per edge request (T1-I): the path without query (the receipts' path), the precise outcome code and
// the ids an operator needs to find the receipt; for refusals also the request headers, values outside the allowlist
// redacted. Never bodies, query strings, secrets or signatures.
import type { LogFields } from '../ports/logger.port';
import { redactHeaders } from '../http/redact-headers';
import type { EdgeContext, EdgeOutcome } from './edge-types';

export const EDGE_ROUTE = 'hooks/{channel}/{hookId}';

export function edgeLogFields(ctx: EdgeContext, outcome: EdgeOutcome, ms: number): LogFields {
  const { disabled } = ctx.options;
  const fields: LogFields = {
    method: ctx.request.method,
    route: EDGE_ROUTE,
    // ctx.path has no query, fragment, authority or `;`-parameters (see requestPathOf in run-edge-pipeline.ts).
    path: ctx.path,
    status: outcome.status,
    channel: ctx.channel,
    hookId: ctx.hookId,
    tenantId: ctx.tenantId,
    deliveryId: ctx.verified !== undefined && ctx.verified.secretIndex >= 0 ? ctx.verified.deliveryId : undefined,
    receiptId: outcome.receiptId,
    ms,
  };
  if (disabled.has('uri-redaction')) fields.url = ctx.request.url;
  // Headers help diagnose a refusal; an accepted request is fully described by its ids (and the line stays cheap).
  if (outcome.kind === 'rejected') {
    fields.code = outcome.code;
    // A refusal the pre-auth guard only counted: the precise reason is here and in the window's summary receipt.
    if (outcome.reason !== undefined) fields.reason = outcome.reason;
    const entries = ctx.request.headerEntries();
    fields.headers = JSON.stringify(disabled.has('header-redaction') ? Object.fromEntries(entries) : redactHeaders(entries));
  }
  return fields;
}
