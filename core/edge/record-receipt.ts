// After the edge steps (T1-R): every request leaves a receipt (accepted, answered or refused) holding the request hash and the
// precise outcome code; never a secret, signature, header or body.
import type { RequestReceipt } from '../ports/receipt-sink.port';
import { requestHash, type EdgeRequestSubject } from './request-hash';
import type { EdgeContext } from './edge-types';

export const EDGE_RECEIPT_KIND = 'edge.webhook';

export function requestSubject(ctx: EdgeContext): EdgeRequestSubject {
  return {
    method: ctx.request.method.toUpperCase(),
    path: ctx.path,
    channel: ctx.channel ?? null,
    hookId: ctx.hookId ?? null,
    tenantId: ctx.tenantId ?? null,
    deliveryId: ctx.verified !== undefined && ctx.verified.secretIndex >= 0 ? ctx.verified.deliveryId : null,
    bodyDigest: ctx.bodyDigest ?? null,
  };
}

export function buildReceipt(ctx: EdgeContext, outcome: RequestReceipt['outcome'], status: number, code?: string): RequestReceipt {
  const subject = requestSubject(ctx);
  const receipt: RequestReceipt = {
    kind: EDGE_RECEIPT_KIND,
    partition: subject.tenantId ?? 'edge',
    atMs: ctx.nowMs,
    requestHash: requestHash(subject),
    outcome,
    status,
    subject: { ...subject },
  };
  return code === undefined ? receipt : { ...receipt, code };
}

/** Appends the receipt and remembers its id. @throws whatever the sink throws (KarsError for outages) */
export async function recordReceipt(ctx: EdgeContext, outcome: RequestReceipt['outcome'], status: number, code?: string): Promise<string> {
  const receiptId = await ctx.deps.receipts.append(buildReceipt(ctx, outcome, status, code), { abortSignal: ctx.request.abortSignal });
  ctx.receiptId = receiptId;
  return receiptId;
}
