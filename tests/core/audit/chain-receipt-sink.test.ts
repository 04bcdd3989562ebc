// T1-R: the edge's ReceiptSink writes into the receipt chains; what the edge records is hashed and verifiable.
import { describe, expect, it } from 'vitest';
import { createChainReceiptSink } from '../../../core/audit/chain-receipt-sink';
import { parseReceiptId } from '../../../core/audit/receipt';
import { verifyAuditLog } from '../../../core/audit/verify-chain';
import { isKarsError } from '../../../core/errors';
import type { ReceiptInput as EdgeReceipt } from '../../../core/ports/receipt-sink.port';
import type { ReceiptStore } from '../../../core/ports/receipt-store.port';
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
    expect(at?.chain).toBe(appender.chainFor(edgeReceipt.partition, edgeReceipt.requestHash));
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

  // One chain advances one receipt per store round trip; a tenant pinned to one chain is held to that rate whatever
  // the chain count (docs/audit.md, Throughput). Measured here as writes in flight while the store is slow.
  it('writes one busy tenant\'s receipts over several chains at once, each chain still linked and verifiable', async () => {
    const inFlight = async (spreadOverChains: boolean): Promise<{ peak: number; chains: number; ok: boolean }> => {
      const rig = auditRig();
      let open = 0;
      let peak = 0;
      const gates: Array<() => void> = [];
      const createReceipt: ReceiptStore['createReceipt'] = async (r, o) => {
        open += 1;
        peak = Math.max(peak, open);
        await new Promise<void>((release) => gates.push(release));
        open -= 1;
        return rig.store.createReceipt(r, o);
      };
      // The real store (bound: it keeps private fields) with a create that waits for the test to release it.
      const slow = new Proxy(rig.store, {
        get: (target, name) => {
          if (name === 'createReceipt') return createReceipt;
          const value: unknown = Reflect.get(target, name);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const sink = createChainReceiptSink(rig.appender({}, slow), { spreadOverChains });
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
        chains: new Set(ids.map((id) => parseReceiptId(id)!.chain)).size,
        ok: (await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key) })).ok,
      };
    };
    const spread = await inFlight(true);
    const pinned = await inFlight(false);
    expect(pinned).toEqual({ peak: 1, chains: 1, ok: true });
    expect(spread.chains).toBeGreaterThanOrEqual(3);
    expect(spread.peak).toBe(spread.chains);
    expect(spread.ok).toBe(true);
  });
});
