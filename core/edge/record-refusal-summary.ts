// The summary receipt of the pre-authentication flood guard (T1-R, T1-D): one receipt per summary window and hook id
// for the refusals that got no receipt of their own, holding how many there were and of which kind, so every request
// leaves an audit trace while a flood costs a bounded number of store writes.
import type { RequestReceipt } from '../ports/receipt-sink.port';
import { NO_HOOK_KEY, OTHER_HOOKS_KEY, type RefusalSummary } from './preauth-guard';
import { sha256Hex } from '../crypto/sha256-hex';

export const REFUSAL_SUMMARY_KIND = 'edge.webhook.refusals';
export const REFUSAL_SUMMARY_HASH_DOMAIN = 'kars.edge.refusals.v1';
/** Status the summarised requests were answered with (the guard's 429). */
export const REFUSAL_SUMMARY_STATUS = 429;

/** Subject fields of a summary receipt, all strings (receipt subjects are flat text). */
export interface RefusalSummarySubject {
  /** The route's hook id; null for ids without a valid shape; `(other)` for ids past the per-window key cap. */
  readonly hookId: string | null;
  readonly tenantId: string | null;
  readonly windowStartMs: string;
  readonly windowEndMs: string;
  readonly count: string;
  /** `CODE:n` pairs sorted by code, comma-separated, e.g. `WEBHOOK_HOOK_UNKNOWN:12,WEBHOOK_SIGNATURE_MISMATCH:4031`. */
  readonly codes: string;
}

export function refusalSummarySubject(summary: RefusalSummary): RefusalSummarySubject {
  const codes = [...summary.codes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, n]) => `${code}:${n}`).join(',');
  return {
    hookId: summary.hookKey === NO_HOOK_KEY ? null : summary.hookKey,
    tenantId: summary.hookKey === OTHER_HOOKS_KEY ? null : summary.tenantId ?? null,
    windowStartMs: String(summary.windowStartMs),
    windowEndMs: String(summary.windowEndMs),
    count: String(summary.count),
    codes,
  };
}

/**
 * Lower-case hex SHA-256 of the UTF-8 JSON array `[domain, hookId, tenantId, windowStartMs, windowEndMs, count, codes]`
 * (the subject fields in that order; JSON escaping makes the encoding injective, as for request hashes).
 */
export function refusalSummaryHash(subject: RefusalSummarySubject): string {
  return sha256Hex(JSON.stringify([
    REFUSAL_SUMMARY_HASH_DOMAIN, subject.hookId, subject.tenantId, subject.windowStartMs, subject.windowEndMs, subject.count, subject.codes,
  ]));
}

export function buildRefusalSummaryReceipt(summary: RefusalSummary): RequestReceipt {
  const subject = refusalSummarySubject(summary);
  return {
    kind: REFUSAL_SUMMARY_KIND,
    partition: subject.tenantId ?? 'edge',
    atMs: summary.windowEndMs,
    requestHash: refusalSummaryHash(subject),
    outcome: 'rejected',
    status: REFUSAL_SUMMARY_STATUS,
    code: 'LIMIT_PREAUTH_EXCEEDED',
    subject: { ...subject },
  };
}
