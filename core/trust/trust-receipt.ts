// T4-E / T4-R: every admitted or refused trust batch, and every applied or dropped queue message, leaves a receipt.
// The receipt keeps what the caller is not told (which update failed and why a signature did not verify); it never
// holds signatures or private material, only key hints and nonces.
import { canonicalJson } from '../audit/canonical-json';
import { sha256Hex } from '../crypto/sha256-hex';
import type { RequestReceipt, ReceiptSink } from '../ports/receipt-sink.port';

export type TrustReceiptKind = 'trust.update' | 'trust.apply';

export interface TrustReceiptFacts {
  readonly kind: TrustReceiptKind;
  readonly tenantId: string | null;
  readonly atMs: number;
  readonly outcome: RequestReceipt['outcome'];
  readonly status: number;
  readonly code?: string;
  readonly subject: Readonly<Record<string, string | null>>;
}

/** Appends the receipt; the request hash covers the domain, tenant and subject fields. */
export async function recordTrustReceipt(sink: ReceiptSink, facts: TrustReceiptFacts): Promise<string> {
  const subject = { tenantId: facts.tenantId, ...facts.subject };
  return sink.append({
    kind: facts.kind,
    partition: facts.tenantId ?? 'trust',
    atMs: facts.atMs,
    requestHash: sha256Hex(canonicalJson({ domain: `kars.${facts.kind}.v1`, subject })),
    outcome: facts.outcome,
    status: facts.status,
    ...(facts.code !== undefined ? { code: facts.code } : {}),
    subject,
  });
}
