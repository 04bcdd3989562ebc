// T2-R / T3-R: the Functions side of router receipts. A router ships batches of its own call and egress receipts; the
// app appends them to the signed hash chain through the batched appender, one subject (= chain) per sandbox, so one
// sandbox's receipts stay in one order. A router names only its own sandbox: the authenticated caller's sandbox must
// be every receipt's partition and subject.sandboxId, else the whole batch is refused (AUTH_FORBIDDEN). Each receipt's
// hash is recomputed from its fields, so what lands in the chain is self-consistent.
import { KarsError } from '../../errors';
import type { RequestReceipt, ReceiptSink } from '../../ports/receipt-sink.port';
import type { RouterCaller } from '../../ports/router-authenticator.port';
import { CALL_SUBJECT_KEYS, MODEL_CALL_RECEIPT_KIND, TOOL_CALL_RECEIPT_KIND, callReceiptHash } from '../call-receipt';
import { EGRESS_RECEIPT_KIND, egressReceiptHash } from '../egress/egress-refusal-receipt';
import { BRIDGE_RECEIPT_KIND, BRIDGE_SUBJECT_KEYS, bridgeReceiptHash } from '../../mesh/bridge/bridge-receipt';

export const ROUTER_RECEIPT_KINDS = [MODEL_CALL_RECEIPT_KIND, TOOL_CALL_RECEIPT_KIND, EGRESS_RECEIPT_KIND, BRIDGE_RECEIPT_KIND] as const;
/** One shipped batch at most (one chain entry holds 256 receipts). */
export const MAX_ROUTER_RECEIPT_BATCH = 256;
const EGRESS_SUBJECT_KEYS = ['sandboxId', 'target', 'address', 'reason', 'atMs'] as const;

export type RouterReceiptMitigation = 'sandbox-binding' | 'receipt-hash';

export interface AcceptRouterReceiptsOptions {
  /** TEST ONLY: switch a check off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly RouterReceiptMitigation[];
}

/**
 * Appends the batch (concurrently: the group commit puts it in as few entries as the chain allows) and returns the
 * receipt ids in the batch's order.
 * @throws KarsError AUTH_FORBIDDEN (a receipt of another sandbox) | INPUT_INVALID (kind, fields or hash) |
 *   AUDIT_APPEND_CONTENDED | STORE_UNAVAILABLE
 */
export async function acceptRouterReceipts(
  caller: RouterCaller, receipts: readonly RequestReceipt[], sink: ReceiptSink, options: AcceptRouterReceiptsOptions = {},
): Promise<string[]> {
  const off = new Set(options._disable ?? []);
  if (receipts.length === 0 || receipts.length > MAX_ROUTER_RECEIPT_BATCH) {
    throw new KarsError('INPUT_INVALID', `a batch holds 1..${MAX_ROUTER_RECEIPT_BATCH} receipts`);
  }
  receipts.forEach((r, i) => {
    if (!off.has('sandbox-binding') && (r.partition !== caller.sandboxId || r.subject['sandboxId'] !== caller.sandboxId)) {
      throw new KarsError('AUTH_FORBIDDEN', 'receipts of another sandbox');
    }
    if (!off.has('receipt-hash') && expectedHash(r) !== r.requestHash) {
      throw new KarsError('INPUT_INVALID', `receipt ${i} does not match its hash or shape`);
    }
  });
  return Promise.all(receipts.map((r) => sink.append(r)));
}

function expectedHash(r: RequestReceipt): string | undefined {
  const keys = Object.keys(r.subject);
  const exactly = (want: readonly string[]): boolean => keys.length === want.length && want.every((k) => k in r.subject);
  if (r.kind === MODEL_CALL_RECEIPT_KIND || r.kind === TOOL_CALL_RECEIPT_KIND) {
    const outcome = r.status >= 200 && r.status < 300 ? 'answered' : 'rejected';
    if (!exactly(CALL_SUBJECT_KEYS) || r.outcome !== outcome || r.subject['atMs'] !== String(r.atMs)) return undefined;
    return callReceiptHash(r.kind, r.status, r.code, r.subject);
  }
  if (r.kind === EGRESS_RECEIPT_KIND) {
    if (!exactly(EGRESS_SUBJECT_KEYS) || r.outcome !== 'rejected' || r.code === undefined || r.subject['atMs'] !== String(r.atMs)) return undefined;
    return egressReceiptHash(r.code, r.subject);
  }
  // T4-S: the mesh bridge's refusals (core/mesh/bridge/bridge-receipt.ts).
  if (r.kind === BRIDGE_RECEIPT_KIND) {
    if (!exactly(BRIDGE_SUBJECT_KEYS) || r.outcome !== 'rejected' || r.code === undefined || r.subject['atMs'] !== String(r.atMs)) return undefined;
    return bridgeReceiptHash(r.code, r.status, r.subject);
  }
  return undefined;
}
