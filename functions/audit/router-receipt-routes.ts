// `POST /api/audit/router-receipts` (T2-R, T3-R): a sandbox router ships batches of its call and egress receipts,
// which the app appends to the signed hash chain through its batched appender. The caller is authenticated by its
// projected service-account token (header `x-kars-router-token`, audience `kars-audit`); the sandbox the token names
// is the only one whose receipts it may write (core/router/audit/accept-router-receipts.ts). Function keys are not
// used (authLevel anonymous): the token is the authentication. 200 answers `{ ids }` once every receipt is durable.
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { isKarsError } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import type { RouterAuthenticator } from '../../core/ports/router-authenticator.port';
import {
  acceptRouterReceipts, MAX_ROUTER_RECEIPT_BATCH, ROUTER_RECEIPT_KINDS, type RouterReceiptMitigation,
} from '../../core/router/audit/accept-router-receipts';
import type { RouteDef } from '../route-def';
import { errorResponse, jsonResponse } from '../http/json-response';
import { readJsonRequest } from '../http/read-json-request';
import { routeErrorResponse } from '../http/route-error';
import { ROUTER_TOKEN_HEADER } from '../../core/mesh/router-auth/verify-router-token';

export const ROUTER_RECEIPTS_ROUTE = 'audit/router-receipts';
/** 256 receipts of about 1 KiB at most each. */
export const ROUTER_RECEIPTS_MAX_BODY_BYTES = 512 * 1024;

const receiptSchema = z.object({
  kind: z.enum(ROUTER_RECEIPT_KINDS),
  partition: z.string().min(1).max(63),
  atMs: z.number().int().nonnegative(),
  requestHash: z.string().regex(/^[0-9a-f]{64}$/),
  outcome: z.enum(['answered', 'rejected']),
  status: z.number().int().min(0).max(599),
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/).optional(),
  subject: z.record(z.string().max(64), z.string().max(512).nullable()).refine((s) => Object.keys(s).length <= 16, 'at most 16 fields'),
}).strict();

export const routerReceiptsBodySchema = z.object({ receipts: z.array(receiptSchema).min(1).max(MAX_ROUTER_RECEIPT_BATCH) }).strict();

export interface RouterReceiptRouteDeps {
  authenticator: RouterAuthenticator;
  receipts: ReceiptSink;
  logger: Logger;
  /** TEST ONLY (attack tests). */
  _disable?: readonly RouterReceiptMitigation[];
}

export function createRouterReceiptRoutes(deps: RouterReceiptRouteDeps): RouteDef[] {
  const handler: HttpHandler = async (req): Promise<HttpResponseInit> => {
    try {
      const auth = await deps.authenticator.authenticate(req.headers.get(ROUTER_TOKEN_HEADER) ?? undefined);
      if (!auth.ok) {
        deps.logger.warn('audit.router_auth_refused', { route: ROUTER_RECEIPTS_ROUTE, reason: auth.code });
        return auth.code === 'keys-unavailable'
          ? errorResponse('IDENTITY_UNAVAILABLE', 'identity provider unavailable')
          : errorResponse('AUTH_REQUIRED', 'authentication required');
      }
      const input = await readJsonRequest(req, routerReceiptsBodySchema, ROUTER_RECEIPTS_MAX_BODY_BYTES);
      if (!input.ok) return input.response;
      const ids = await acceptRouterReceipts(auth.value, input.value.receipts, deps.receipts, deps._disable ? { _disable: deps._disable } : {});
      return jsonResponse(200, { ids });
    } catch (e) {
      if (isKarsError(e) && e.code === 'AUTH_FORBIDDEN') deps.logger.warn('audit.router_receipts_forbidden', { route: ROUTER_RECEIPTS_ROUTE });
      return routeErrorResponse(e, { route: ROUTER_RECEIPTS_ROUTE, logger: deps.logger });
    }
  };
  return [{ name: 'auditRouterReceipts', methods: ['POST'], route: ROUTER_RECEIPTS_ROUTE, authLevel: 'anonymous', handler }];
}

/** The same route for the static route table: dependencies built on the first request, rebuilt after a failure. */
export function createLazyRouterReceiptRoutes(getDeps: () => Promise<RouterReceiptRouteDeps>): RouteDef[] {
  let built: Promise<RouteDef[]> | undefined;
  const load = (): Promise<RouteDef[]> => {
    if (built === undefined) {
      const pending = getDeps().then(createRouterReceiptRoutes);
      built = pending;
      pending.catch(() => { if (built === pending) built = undefined; });
    }
    return built;
  };
  return [{
    name: 'auditRouterReceipts', methods: ['POST'], route: ROUTER_RECEIPTS_ROUTE, authLevel: 'anonymous',
    handler: async (req, context) => {
      let real: RouteDef;
      try {
        real = (await load())[0]!;
      } catch (e) {
        const code = isKarsError(e) && e.code === 'CONFIG_INVALID' ? 'CONFIG_INVALID' : 'DEPENDENCY_UNAVAILABLE';
        return errorResponse(code, code === 'CONFIG_INVALID' ? 'router receipts not configured' : 'dependency unavailable');
      }
      return real.handler(req, context);
    },
  }];
}
