// T4-E: the front half of the trust flow (POST /api/trust/updates). A batch is checked whole before anything
// happens: every update signed (Ed25519, domain-separated), by an issuer allowed for its tenant, fresh (±300 s), with
// an unused nonce. The first failure refuses the batch, nothing is queued, claimed nonces are given back, and the
// receipt records which update failed and why; the caller only learns the code.
import { httpStatusOf, isKarsError } from '../errors';
import type { Clock } from '../ports/clock.port';
import type { ReceiptSink } from '../ports/receipt-sink.port';
import type { ReplayGuard, ReplayClaim } from '../ports/replay-guard.port';
import type { TrustIssuerRegistry } from '../ports/trust-issuer-registry.port';
import type { TrustQueueMessage, TrustUpdateQueue } from '../ports/trust-update-queue.port';
import { checkTrustSignature, trustIssuerKeyId } from './trust-signature';
import { mitigationOn, type TrustMitigation } from './trust-policy';
import { trustUpdateSubject, type SignedTrustUpdate, type TrustBatch } from './trust-update';
import { recordTrustReceipt } from './trust-receipt';

/** ARCHITECTURE §5: the same ±300 s window as webhook timestamps. */
export const TRUST_TOLERANCE_SEC = 300;

export interface AdmitTrustDeps {
  readonly issuers: TrustIssuerRegistry;
  readonly replay: ReplayGuard;
  readonly queue: TrustUpdateQueue;
  readonly receipts: ReceiptSink;
  readonly clock: Clock;
}

export interface AdmitTrustOptions {
  readonly toleranceSec?: number;
  /** TEST ONLY: mitigations switched off. Never set from configuration. */
  readonly _disable?: readonly TrustMitigation[];
}

export type TrustRefusalCode =
  | 'INPUT_INVALID' | 'TRUST_SIGNATURE_INVALID' | 'TRUST_ISSUER_UNAUTHORIZED' | 'TRUST_UPDATE_STALE' | 'TRUST_UPDATE_REPLAY';

export type AdmitTrustResult =
  | {
    ok: true; tenantId: string; accepted: number; subjects: readonly string[];
    /** null: queued, but the accepted receipt could not be written (`receiptError` says why). */
    receiptId: string | null; receiptError?: string;
  }
  | { ok: false; code: TrustRefusalCode; message: string };

interface Refusal {
  code: TrustRefusalCode;
  index: number;
  /** Audit only. */
  reason: string;
}

const PUBLIC_MESSAGES: Record<TrustRefusalCode, string> = {
  INPUT_INVALID: 'every update of a batch must name the same tenant',
  TRUST_SIGNATURE_INVALID: 'is not validly signed',
  TRUST_ISSUER_UNAUTHORIZED: 'is signed by a key that is not a trust issuer of the tenant',
  TRUST_UPDATE_STALE: `was issued more than ${TRUST_TOLERANCE_SEC} s from now`,
  TRUST_UPDATE_REPLAY: 'reuses a nonce',
};

/**
 * Checks and queues a batch, all or nothing.
 * @throws KarsError STORE_UNAVAILABLE (issuer registry, replay store) | BUS_* (queue, receipted as rejected); a
 *   failure after nonces were claimed gives them back first, so the issuer's retry is not a replay.
 */
export async function admitTrustBatch(deps: AdmitTrustDeps, batch: TrustBatch, options: AdmitTrustOptions = {}): Promise<AdmitTrustResult> {
  const policy = { _disable: options._disable };
  const nowMs = deps.clock.nowMs();
  const toleranceMs = (options.toleranceSec ?? TRUST_TOLERANCE_SEC) * 1000;
  const tenantId = batch.updates[0]!.payload.tenantId;
  const facts = (u: readonly SignedTrustUpdate[]) => ({
    count: String(u.length),
    issuers: [...new Set(u.map((x) => trustIssuerKeyId(x.payload.issuer)))].join(','),
    nonces: u.map((x) => x.payload.nonce).join(','),
    subjects: [...new Set(u.map((x) => trustUpdateSubject(x.payload.update)))].join(','),
  });
  const refuse = async (r: Refusal): Promise<AdmitTrustResult> => {
    await recordTrustReceipt(deps.receipts, {
      kind: 'trust.update', tenantId, atMs: nowMs, outcome: 'rejected', status: httpStatusOf(r.code), code: r.code,
      subject: { ...facts(batch.updates), refusedIndex: String(r.index), reason: r.reason },
    });
    const message = r.code === 'INPUT_INVALID' ? PUBLIC_MESSAGES.INPUT_INVALID : `update ${r.index} ${PUBLIC_MESSAGES[r.code]}`;
    return { ok: false, code: r.code, message };
  };

  const refusal = await firstRefusal(deps, batch.updates, tenantId, nowMs, toleranceMs, policy);
  if (refusal) return refuse(refusal);

  const claims: Extract<ReplayClaim, { status: 'fresh' }>[] = [];
  const release = async (): Promise<void> => {
    await Promise.allSettled(claims.map((c) => c.release()));
  };
  if (mitigationOn(policy, 'replay')) {
    for (const [index, u] of batch.updates.entries()) {
      const key = `kars.trust:${tenantId}:${trustIssuerKeyId(u.payload.issuer)}:${u.payload.nonce}`;
      let claim: ReplayClaim;
      try {
        claim = await deps.replay.claim(key, u.payload.issuedAtSec * 1000 + toleranceMs + 1000, nowMs);
      } catch (e) {
        await release();
        throw e;
      }
      if (claim.status === 'replayed') {
        await release();
        return refuse({ code: 'TRUST_UPDATE_REPLAY', index, reason: 'nonce-claimed' });
      }
      claims.push(claim);
    }
  }

  // The receipt follows the durable enqueue, so it says what happened (T1-R / T4-R): `accepted` only once the bus holds
  // the batch, `rejected` with the bus's code when it refused it.
  const messages = groupBySubject(tenantId, batch.updates);
  try {
    await deps.queue.enqueue(messages);
  } catch (e) {
    await release();
    const code = isKarsError(e) ? e.code : 'INTERNAL';
    await recordTrustReceipt(deps.receipts, {
      kind: 'trust.update', tenantId, atMs: nowMs, outcome: 'rejected', status: httpStatusOf(code), code,
      subject: { ...facts(batch.updates), reason: 'enqueue-failed' },
    }).catch(() => undefined); // the enqueue error is what the caller must see; a lost refusal receipt loses no update
    throw e;
  }
  let receiptId: string | null;
  let receiptError: string | undefined;
  try {
    receiptId = await recordTrustReceipt(deps.receipts, {
      kind: 'trust.update', tenantId, atMs: nowMs, outcome: 'accepted', status: 202, subject: facts(batch.updates),
    });
  } catch (e) {
    // Queued and claimed: the batch will apply (the applier receipts each apply) and a retry would be a replay, so the
    // answer stays 202 without a receipt id and the caller logs the gap.
    receiptId = null;
    receiptError = isKarsError(e) ? e.code : 'INTERNAL';
  }
  return {
    ok: true, tenantId, accepted: batch.updates.length, subjects: messages.map((m) => m.subject), receiptId,
    ...(receiptError !== undefined ? { receiptError } : {}),
  };
}

async function firstRefusal(
  deps: AdmitTrustDeps, updates: readonly SignedTrustUpdate[], tenantId: string, nowMs: number, toleranceMs: number,
  policy: { _disable?: readonly TrustMitigation[] },
): Promise<Refusal | undefined> {
  let allowed: readonly string[] | undefined;
  for (const [index, u] of updates.entries()) {
    if (u.payload.tenantId !== tenantId) return { code: 'INPUT_INVALID', index, reason: 'mixed-tenants' };
    if (mitigationOn(policy, 'signature')) {
      const sig = checkTrustSignature(u);
      if (!sig.ok) return { code: 'TRUST_SIGNATURE_INVALID', index, reason: `signature-${sig.reason}` };
    }
    if (mitigationOn(policy, 'issuer')) {
      // Fail closed: a registry error propagates (503), it never admits.
      allowed ??= await deps.issuers.allowedIssuers(tenantId);
      if (!allowed.includes(u.payload.issuer)) return { code: 'TRUST_ISSUER_UNAUTHORIZED', index, reason: 'issuer-not-allowed' };
    }
    if (mitigationOn(policy, 'freshness') && Math.abs(nowMs - u.payload.issuedAtSec * 1000) > toleranceMs) {
      return { code: 'TRUST_UPDATE_STALE', index, reason: u.payload.issuedAtSec * 1000 < nowMs ? 'too-old' : 'in-future' };
    }
  }
  return undefined;
}

/** One message per subject DID, updates in batch order. */
export function groupBySubject(tenantId: string, updates: readonly SignedTrustUpdate[]): TrustQueueMessage[] {
  const by = new Map<string, SignedTrustUpdate[]>();
  for (const u of updates) {
    const s = trustUpdateSubject(u.payload.update);
    let list = by.get(s);
    if (!list) by.set(s, (list = []));
    list.push(u);
  }
  return [...by].map(([subject, list]) => ({ tenantId, subject, updates: list }));
}
