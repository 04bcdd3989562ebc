// POST /api/trust/updates (operator route): a batch of signed trust updates, admitted whole or refused
// whole (core/trust/admit-trust-batch.ts), then queued per subject DID for the applier. 202: queued, not yet applied.
import type { HttpHandler } from '@azure/functions';
import { admitTrustBatch } from '../../core/trust/admit-trust-batch';
import { TRUST_MAX_BODY_BYTES, trustBatchSchema } from '../../core/trust/trust-update';
import { readJsonRequest } from '../http/read-json-request';
import { errorResponse, jsonResponse } from '../http/json-response';
import type { TrustRouteDeps } from './trust-route-deps';
import { routeErrorResponse } from '../http/route-error';

export function postTrustUpdatesHandler(getDeps: () => Promise<TrustRouteDeps>): HttpHandler {
  return async (req) => {
    const input = await readJsonRequest(req, trustBatchSchema, TRUST_MAX_BODY_BYTES);
    if (!input.ok) return input.response;
    const deps = await getDeps();
    try {
      const result = await admitTrustBatch(deps.admit, input.value, { _disable: deps._disable });
      if (!result.ok) {
        deps.logger.warn('trust.update_refused', { code: result.code, tenantId: input.value.updates[0]!.payload.tenantId });
        return errorResponse(result.code, result.message);
      }
      deps.logger.info('trust.update_queued', { tenantId: result.tenantId, code: 'ACCEPTED' });
      // Queued without its accepted receipt: the gap is visible here (the applier still receipts the apply).
      if (result.receiptId === null) deps.logger.error('trust.receipt_failed', { tenantId: result.tenantId, code: result.receiptError ?? 'INTERNAL' });
      return jsonResponse(202, { accepted: result.accepted, subjects: result.subjects, receiptId: result.receiptId });
    } catch (e) {
      return routeErrorResponse(e, { route: 'trust/updates', logger: deps.logger });
    }
  };
}
