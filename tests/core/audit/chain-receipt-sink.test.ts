// T1-R: the edge's ReceiptSink writes into the receipt chains; what the edge records is hashed and verifiable.
import { describe, expect, it } from 'vitest';
import { createChainReceiptSink } from '../../../core/audit/chain-receipt-sink';
import { parseReceiptId } from '../../../core/audit/receipt';
import { verifyAuditLog } from '../../../core/audit/verify-chain';
import { isKarsError } from '../../../core/errors';
import type { RequestReceipt } from '../../../core/ports/receipt-sink.port';
import type { ReceiptStore } from '../../../core/ports/receipt-store.port';
import { auditRig, keysOf } from './audit-fixture';

const edgeReceipt: RequestReceipt = {
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
    expect(at?.index).toBe(0);
    const stored = await rig.store.readEntry(at!.chain, at!.seq);
    expect(JSON.parse((stored?.body['receipts'] as string[])[at!.index!]!)).toEqual({
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
    expect((JSON.parse(((await rig.store.readEntry(at.chain, at.seq))?.body['receipts'] as string[])[at.index!]!) as { data: object }).data).not.toHaveProperty('code');
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

  // One chain advances one entry per store round trip, and every receipt that arrives meanwhile joins the next entry
  // (docs/audit.md). Pinned (the default), a busy tenant's receipts share entries; spread by request hash they go to
  // several chains at once, in smaller entries. Measured here as entry writes in flight while the store is slow.
  it('batches one busy tenant\'s receipts on its chain (default), or spreads them over several chains at once', async () => {
    const inFlight = async (spreadOverChains: boolean): Promise<{ peak: number; chains: number; writes: number; ok: boolean }> => {
      const rig = auditRig();
      let open = 0;
      let peak = 0;
      let writes = 0;
      const gates: Array<() => void> = [];
      const createEntry: ReceiptStore['createEntry'] = async (r, o) => {
        writes += 1;
        open += 1;
        peak = Math.max(peak, open);
        await new Promise<void>((release) => gates.push(release));
        open -= 1;
        return rig.store.createEntry(r, o);
      };
      // The real store (bound: it keeps private fields) with a create that waits for the test to release it.
      const slow = new Proxy(rig.store, {
        get: (target, name) => {
          if (name === 'createEntry') return createEntry;
          const value: unknown = Reflect.get(target, name);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const sink = createChainReceiptSink(rig.appender({}, slow), spreadOverChains ? { spreadOverChains } : {});
      const hashes = Array.from({ length: 16 }, (_, i) => (i.toString(16).padStart(2, '0')).repeat(32));
      const appends = hashes.map((requestHash) => sink.append({ ...edgeReceipt, requestHash }));
      let settled = false;
      const all = Promise.all(appends).finally(() => { settled = true; });
      while (!settled) {
        await new Promise((r) => setImmediate(r));
        for (const release of gates.splice(0)) release();
      }
      const ids = await all;
      return {
        peak,
        writes,
        chains: new Set(ids.map((id) => parseReceiptId(id)!.chain)).size,
        ok: (await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key) })).ok,
      };
    };
    const spread = await inFlight(true);
    const pinned = await inFlight(false);
    // Issued in one turn: pinned, all 16 go out in one entry write.
    expect(pinned).toEqual({ peak: 1, writes: 1, chains: 1, ok: true });
    expect(spread.chains).toBeGreaterThanOrEqual(3);
    expect(spread.peak).toBe(spread.chains);
    expect(spread.writes).toBe(spread.chains);
    expect(spread.ok).toBe(true);
  });
});
