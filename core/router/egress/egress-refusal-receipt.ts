// Egress refusals into the audit chain (T3-S, T2-I): one receipt per refused tunnel, hashed like the edge's request
// receipts, holding the code and reason but never anything the tunnel would have carried.
import { httpStatusOf } from '../../errors';
import { sha256Hex } from '../../crypto/sha256-hex';
import type { EgressAudit, EgressRefusalEvent } from '../../ports/egress-audit.port';
import type { RequestReceipt, ReceiptSink } from '../../ports/receipt-sink.port';

export const EGRESS_RECEIPT_KIND = 'router.egress';
export const EGRESS_HASH_DOMAIN = 'kars.router.egress.v1';

/** The receipt for one refusal; the hash covers `[domain, sandboxId, target, address, code, reason, atMs]`. */
export function egressRefusalReceipt(event: EgressRefusalEvent): RequestReceipt {
  const subject = {
    sandboxId: event.sandboxId, target: event.target, address: event.address ?? null, reason: event.reason,
    atMs: String(event.atMs),
  };
  return {
    kind: EGRESS_RECEIPT_KIND,
    partition: event.sandboxId,
    atMs: event.atMs,
    requestHash: egressReceiptHash(event.code, subject),
    outcome: 'rejected',
    status: httpStatusOf(event.code),
    code: event.code,
    subject,
  };
}

/** The refusal receipt's hash, recomputable from its code and subject. */
export function egressReceiptHash(code: string, subject: Readonly<Record<string, string | null>>): string {
  return sha256Hex(JSON.stringify([EGRESS_HASH_DOMAIN, subject['sandboxId'] ?? null, subject['target'] ?? null, subject['address'] ?? null, code, subject['reason'] ?? null, subject['atMs'] ?? null]));
}

/** An EgressAudit that appends a receipt per refusal to `sink`. */
export function receiptEgressAudit(sink: ReceiptSink): EgressAudit {
  return { refused: async (event) => { await sink.append(egressRefusalReceipt(event)); } };
}
