// T2-R / T3-R: one receipt per model call and per tool tunnel, through the ReceiptSink port (the audit chain when the
// router has one). It attributes the call (sandbox, agent, operation, model or tool host, trace id, status, usage)
// and links it to the trace; it never holds content (prompts, completions, tunnelled bytes) or credentials.
import { sha256Hex } from '../crypto/sha256-hex';
import type { RequestReceipt } from '../ports/receipt-sink.port';

export const MODEL_CALL_RECEIPT_KIND = 'router.model';
export const TOOL_CALL_RECEIPT_KIND = 'router.tool';
const HASH_DOMAIN = 'kars.router.call.v1';

export interface CallRecord {
  readonly kind: typeof MODEL_CALL_RECEIPT_KIND | typeof TOOL_CALL_RECEIPT_KIND;
  readonly sandboxId: string;
  readonly agentId: string;
  /** `chat`, `embeddings`, `responses`, or `connect` for a tool tunnel. */
  readonly operation: string;
  /** The deployment that answered (model calls) or the tool's `host:port`. */
  readonly target: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly status: number;
  readonly code?: string;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly responseId?: string;
  readonly atMs: number;
}

/** The subject fields of a call receipt, in the order the hash covers them. */
export const CALL_SUBJECT_KEYS = [
  'sandboxId', 'agentId', 'operation', 'target', 'traceId', 'spanId', 'inputTokens', 'outputTokens', 'responseId', 'atMs',
] as const;

/** The receipt hash over kind, status, code and the subject fields in CALL_SUBJECT_KEYS order (a verifier recomputes it). */
export function callReceiptHash(kind: string, status: number, code: string | undefined, subject: Readonly<Record<string, string | null>>): string {
  return sha256Hex(JSON.stringify([HASH_DOMAIN, kind, status, code ?? null, ...CALL_SUBJECT_KEYS.map((k) => subject[k] ?? null)]));
}

/** The hash covers every subject field in a fixed order, so a verifier can recompute it. */
export function callReceipt(r: CallRecord): RequestReceipt {
  const subject: Record<string, string | null> = {
    sandboxId: r.sandboxId, agentId: r.agentId, operation: r.operation, target: r.target, traceId: r.traceId,
    spanId: r.spanId, inputTokens: r.inputTokens === undefined ? null : String(r.inputTokens),
    outputTokens: r.outputTokens === undefined ? null : String(r.outputTokens), responseId: r.responseId ?? null,
    atMs: String(r.atMs),
  };
  return {
    kind: r.kind,
    partition: r.sandboxId,
    atMs: r.atMs,
    requestHash: callReceiptHash(r.kind, r.status, r.code, subject),
    outcome: r.status >= 200 && r.status < 300 ? 'answered' : 'rejected',
    status: r.status,
    ...(r.code === undefined ? {} : { code: r.code }),
    subject,
  };
}
