// PUT /api/manage/trust/issuers/{tenantId} (operator route): the tenant's allowed trust issuer keys (T4-E). Public
// keys only; replacing the list revokes every key it no longer holds.
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { isEntityId } from '../../core/edge/edge-ids';
import { ISSUER_KEY_RE, TRUST_MAX_BODY_BYTES } from '../../core/trust/trust-update';
import { readJsonRequest } from '../http/read-json-request';
import { errorResponse, jsonResponse } from '../http/json-response';
import type { TrustRouteDeps } from './trust-route-deps';
import { routeErrorResponse } from '../http/route-error';

export const putTrustIssuersSchema = z.strictObject({
  keys: z.array(z.string().regex(ISSUER_KEY_RE)).max(16),
});

export function putTrustIssuersHandler(getDeps: () => Promise<TrustRouteDeps>): HttpHandler {
  return async (req) => {
    const tenantId = req.params.tenantId;
    if (!isEntityId(tenantId)) return errorResponse('INPUT_INVALID', 'invalid path parameter: tenantId');
    const input = await readJsonRequest(req, putTrustIssuersSchema, TRUST_MAX_BODY_BYTES);
    if (!input.ok) return input.response;
    const deps = await getDeps();
    try {
      await deps.setIssuers(tenantId, input.value.keys);
      deps.logger.info('trust.issuers_set', { tenantId });
      return jsonResponse(200, { tenantId, keys: input.value.keys.length });
    } catch (e) {
      return routeErrorResponse(e, { route: 'manage/trust/issuers/{tenantId}', logger: deps.logger });
    }
  };
}
