// T4-E: the back half of the trust flow (the Service Bus triggered applier). The queue is a trust boundary too, so
// every update is verified again (signature, issuer) before it touches the projection; freshness and nonces were
// checked at admission (a message may wait in the queue), and a redelivered message is applied once. The tenant's
// projection is replaced with an ETag and retried on a concurrent write, so no applier overwrites another.
import { z } from 'zod';
import { ENTITY_ID_RE } from '../edge/edge-ids';
import { httpStatusOf, isKarsError, KarsError } from '../errors';
import type { Clock } from '../ports/clock.port';
import type { ReceiptSink } from '../ports/receipt-sink.port';
import type { TrustGraphStore } from '../ports/trust-graph-store.port';
import type { TrustIssuerRegistry } from '../ports/trust-issuer-registry.port';
import { applyTrustUpdates } from './apply-trust-updates';
import { emptyTrustGraph } from './trust-graph';
import { mitigationOn, type TrustPolicy } from './trust-policy';
import { recordTrustReceipt } from './trust-receipt';
import { checkTrustSignature, trustIssuerKeyId } from './trust-signature';
import { DID_RE, MAX_TRUST_BATCH, signedTrustUpdateSchema, trustUpdateSubject } from './trust-update';

export const trustQueueMessageSchema = z.strictObject({
  tenantId: z.string().regex(ENTITY_ID_RE),
  subject: z.string().regex(DID_RE),
  updates: z.array(signedTrustUpdateSchema).min(1).max(MAX_TRUST_BATCH),
});

export interface ApplyTrustDeps {
  readonly store: TrustGraphStore;
  readonly issuers: TrustIssuerRegistry;
  readonly receipts: ReceiptSink;
  readonly clock: Clock;
  readonly policy: TrustPolicy;
}

export type ApplyTrustOutcome =
  | { readonly status: 'applied'; readonly version: number; readonly applied: number }
  | { readonly status: 'duplicate'; readonly version: number }
  /** Not retryable: the message is settled without effect and the receipt says why. */
  | { readonly status: 'dropped'; readonly code: 'INPUT_INVALID' | 'TRUST_SIGNATURE_INVALID' | 'TRUST_ISSUER_UNAUTHORIZED' };

export const MAX_APPLY_ATTEMPTS = 8;

/**
 * Applies one queue message.
 * @throws KarsError STORE_UNAVAILABLE | STORE_PRECONDITION_FAILED (still contended after MAX_APPLY_ATTEMPTS) — the
 *   trigger lets the bus redeliver.
 */
export async function applyTrustMessage(deps: ApplyTrustDeps, body: unknown): Promise<ApplyTrustOutcome> {
  const nowMs = deps.clock.nowMs();
  const parsed = trustQueueMessageSchema.safeParse(body);
  const drop = async (code: 'INPUT_INVALID' | 'TRUST_SIGNATURE_INVALID' | 'TRUST_ISSUER_UNAUTHORIZED', tenantId: string | null, reason: string): Promise<ApplyTrustOutcome> => {
    await recordTrustReceipt(deps.receipts, { kind: 'trust.apply', tenantId, atMs: nowMs, outcome: 'rejected', status: httpStatusOf(code), code, subject: { reason } });
    return { status: 'dropped', code };
  };
  if (!parsed.success) return drop('INPUT_INVALID', null, 'message-schema');
  const msg = parsed.data;
  let allowed: readonly string[] | undefined;
  for (const [i, u] of msg.updates.entries()) {
    if (u.payload.tenantId !== msg.tenantId || trustUpdateSubject(u.payload.update) !== msg.subject) {
      return drop('INPUT_INVALID', msg.tenantId, `update-${i}-not-of-message`);
    }
    if (mitigationOn(deps.policy, 'signature')) {
      const sig = checkTrustSignature(u);
      if (!sig.ok) return drop('TRUST_SIGNATURE_INVALID', msg.tenantId, `update-${i}-signature-${sig.reason}`);
    }
    if (mitigationOn(deps.policy, 'issuer')) {
      allowed ??= await deps.issuers.allowedIssuers(msg.tenantId);
      if (!allowed.includes(u.payload.issuer)) return drop('TRUST_ISSUER_UNAUTHORIZED', msg.tenantId, `update-${i}-issuer-${trustIssuerKeyId(u.payload.issuer)}`);
    }
  }

  for (let attempt = 1; ; attempt += 1) {
    const current = await deps.store.load(msg.tenantId);
    const graph = current?.stored.graph ?? emptyTrustGraph(msg.tenantId);
    const result = applyTrustUpdates(graph, current?.stored.appliedNonces ?? [], msg.updates.map((u) => u.payload), deps.policy);
    if (result.applied === 0) return { status: 'duplicate', version: graph.version };
    try {
      await deps.store.save({ graph: result.graph, appliedNonces: result.appliedNonces }, current?.etag);
    } catch (e) {
      const raced = isKarsError(e) && (e.code === 'STORE_PRECONDITION_FAILED' || e.code === 'STORE_CONFLICT');
      if (raced && attempt < MAX_APPLY_ATTEMPTS) continue;
      if (raced) throw new KarsError('STORE_PRECONDITION_FAILED', 'trust graph still contended; the message will be redelivered', { cause: e });
      throw e;
    }
    await recordTrustReceipt(deps.receipts, {
      kind: 'trust.apply', tenantId: msg.tenantId, atMs: nowMs, outcome: 'accepted', status: 200,
      subject: { subject: msg.subject, version: String(result.graph.version), applied: String(result.applied), nonces: msg.updates.map((u) => u.payload.nonce).join(',') },
    });
    return { status: 'applied', version: result.graph.version, applied: result.applied };
  }
}
