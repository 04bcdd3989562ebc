// The console's traffic aggregation over real chain entries (the batched appender over the in-memory receipt store):
// counts per hook and refusal code land in the right buckets, other receipt kinds and out-of-window receipts do not
// count, and a chain is read only to its bounded tail.
import { describe, expect, it } from 'vitest';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import { createChainReceiptSink } from '../../../core/audit/chain-receipt-sink';
import { bucketEdgeTraffic } from '../../../core/console/edge-traffic';
import { readRecentEntries } from '../../../core/console/read-recent-entries';
import { readChainHeads } from '../../../core/console/chain-heads';
import type { RequestReceipt } from '../../../core/ports/receipt-sink.port';
import { createMemoryReceiptStore } from '../../../adapters/memory/memory-receipt-store';

const T0 = 1_760_000_000_000;

function receipt(atMs: number, hookId: string | null, outcome: RequestReceipt['outcome'], code?: string): RequestReceipt {
  const r: RequestReceipt = {
    kind: 'edge.webhook', partition: 'tenant-a', atMs, requestHash: 'a'.repeat(64), outcome, status: outcome === 'rejected' ? 401 : 202,
    subject: { method: 'POST', path: `/api/hooks/standard/${hookId ?? '<probe>'}`, channel: 'standard', hookId, tenantId: 'tenant-a', deliveryId: null, bodyDigest: null },
  };
  return code ? { ...r, code } : r;
}

async function chainsWith(receipts: RequestReceipt[], maxBatchReceipts = 256) {
  let now = T0;
  const { receipts: store } = createMemoryReceiptStore();
  const appender = new ReceiptAppender(store, { clock: { nowMs: () => now }, layout: { prefix: 'audit', count: 2 }, maxBatchReceipts });
  const sink = createChainReceiptSink(appender);
  for (const r of receipts) {
    now = r.atMs;
    await sink.append(r);
  }
  await appender.append({ subject: 'router', kind: 'router.model', outcome: 'allowed', data: { atMs: T0 } });
  return store;
}

describe('console edge traffic', () => {
  it('counts accepted and refused webhooks per hook and per code into time buckets', async () => {
    const store = await chainsWith([
      receipt(T0 + 1_000, 'hk-a', 'accepted'),
      receipt(T0 + 2_000, 'hk-a', 'accepted'),
      receipt(T0 + 61_000, 'hk-a', 'rejected', 'WEBHOOK_SIGNATURE_INVALID'),
      receipt(T0 + 62_000, null, 'rejected', 'EDGE_HOOK_UNKNOWN'),
      receipt(T0 - 1, 'hk-a', 'accepted'),
    ]);
    const page = await readRecentEntries(store, ['audit-00', 'audit-01'], { sinceMs: T0, maxEntriesPerChain: 100 });
    const t = bucketEdgeTraffic(page.entries, { fromMs: T0, toMs: T0 + 120_000, bucketMs: 60_000 });
    expect(t.buckets).toEqual([T0, T0 + 60_000]);
    expect(t.receipts).toBe(4);
    expect(t.hooks).toEqual([
      { hook: '/api/hooks/standard/<probe>', accepted: [0, 0], refused: [0, 1] },
      { hook: 'hk-a', accepted: [2, 0], refused: [0, 1] },
    ]);
    expect(t.codes).toEqual([{ code: 'EDGE_HOOK_UNKNOWN', refused: [0, 1] }, { code: 'WEBHOOK_SIGNATURE_INVALID', refused: [0, 1] }]);
  });

  it('counts the refusals a pre-auth summary receipt stands for, by code', async () => {
    const summary: RequestReceipt = {
      kind: 'edge.webhook.refusals', partition: 'edge', atMs: T0 + 10_000, requestHash: 'b'.repeat(64), outcome: 'rejected', status: 429, code: 'LIMIT_PREAUTH_EXCEEDED',
      subject: { hookId: 'hk-b', tenantId: null, windowStartMs: String(T0), windowEndMs: String(T0 + 10_000), count: '7', codes: 'WEBHOOK_HOOK_UNKNOWN:5,WEBHOOK_SIGNATURE_MISSING:2' },
    };
    const store = await chainsWith([summary]);
    const page = await readRecentEntries(store, ['audit-00', 'audit-01'], { sinceMs: T0, maxEntriesPerChain: 100 });
    const t = bucketEdgeTraffic(page.entries, { fromMs: T0, toMs: T0 + 60_000, bucketMs: 60_000 });
    expect(t.hooks).toEqual([{ hook: 'hk-b', accepted: [0], refused: [7] }]);
    expect(t.codes).toEqual([{ code: 'WEBHOOK_HOOK_UNKNOWN', refused: [5] }, { code: 'WEBHOOK_SIGNATURE_MISSING', refused: [2] }]);
  });

  it('reads only the newest entries of a chain and says when the window goes further back', async () => {
    const store = await chainsWith(Array.from({ length: 30 }, (_, i) => receipt(T0 + i * 1000, 'hk-a', 'accepted')), 1);
    const page = await readRecentEntries(store, ['audit-00', 'audit-01'], { sinceMs: T0, maxEntriesPerChain: 10 });
    expect(page.entries.length).toBeLessThanOrEqual(20);
    expect(page.truncated).toContain('audit-00');
    const t = bucketEdgeTraffic(page.entries, { fromMs: T0, toMs: T0 + 60_000, bucketMs: 60_000 });
    expect(t.hooks[0]?.accepted[0]).toBeLessThan(30);
  });

  it('shows each chain head', async () => {
    const store = await chainsWith([receipt(T0, 'hk-a', 'accepted')]);
    const heads = await readChainHeads(store, ['audit-00', 'audit-01', 'audit-09']);
    expect(heads.find((h) => h.chain === 'audit-09')).toEqual({ chain: 'audit-09', head: null, checkpoint: null });
    expect(heads.filter((h) => h.head !== null).map((h) => h.head!.seq)).toEqual(expect.arrayContaining([1]));
  });
});
