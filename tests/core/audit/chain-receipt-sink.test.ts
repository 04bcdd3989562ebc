// T1-R: the edge's ReceiptSink writes into the receipt chains; what the edge records is hashed and verifiable.
import { describe, expect, it } from 'vitest';
import { createChainReceiptSink } from '../../../core/audit/chain-receipt-sink';
import { parseReceiptId } from '../../../core/audit/receipt';
import { verifyAuditLog } from '../../../core/audit/verify-chain';
import { isKarsError } from '../../../core/errors';
import type { ReceiptInput as EdgeReceipt } from '../../../core/ports/receipt-sink.port';
import { auditRig, keysOf } from './audit-fixture';

const edgeReceipt: EdgeReceipt = {
  kind: 'edge.webhook', partition: 'tenant@example.com / hook 7', atMs: 1_700_000_000_500, requestHash: 'ab'.repeat(32),
  outcome: 'rejected', status: 401, code: 'WEBHOOK_SIGNATURE_MISMATCH', subject: { hookId: 'h7', deliveryId: null },
};

describe('createChainReceiptSink', () => {
  it('appends the edge receipt to the partition\'s chain and returns its receipt id', async () => {
    const rig = auditRig();
    const appender = rig.appender();
    const sink = createChainReceiptSink(appender);
    const id = await sink.append(edgeReceipt);
    const at = parseReceiptId(id);
    expect(at?.chain).toBe(appender.chainFor(edgeReceipt.partition));
    const stored = await rig.store.readReceipt(at!.chain, at!.seq);
    expect(stored?.body).toMatchObject({
      subject: edgeReceipt.partition, kind: 'edge.webhook', outcome: 'rejected',
      data: { atMs: edgeReceipt.atMs, requestHash: edgeReceipt.requestHash, status: 401, code: 'WEBHOOK_SIGNATURE_MISMATCH', subject: { hookId: 'h7', deliveryId: null } },
    });
    expect((await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key) })).ok).toBe(true);
  });

  it('omits code when the edge has none and surfaces store failures with their code', async () => {
    const rig = auditRig();
    const sink = createChainReceiptSink(rig.appender());
    const { code: _code, ...accepted } = edgeReceipt;
    const id = await sink.append({ ...accepted, outcome: 'accepted', status: 202 });
    const at = parseReceiptId(id)!;
    expect((await rig.store.readReceipt(at.chain, at.seq))?.body['data']).not.toHaveProperty('code');
    const aborted = new AbortController();
    aborted.abort();
    let code = 'resolved';
    try {
      await createChainReceiptSink(rig.appender()).append(edgeReceipt, { abortSignal: aborted.signal });
    } catch (e) {
      code = isKarsError(e) ? e.code : 'other';
    }
    expect(code).toBe('STORE_UNAVAILABLE');
  });
});
