// The router's receipt shipper (T2-R): appends return once spooled, whatever the transport does (the call path never
// waits on the network); batches are cut at maxBatch or after maxDelayMs; failures are retried with backoff until the
// app takes the batch, so nothing spooled is lost; an unacceptable batch is dropped with an error line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../core/ports/logger.port';
import type { RequestReceipt } from '../../../../core/ports/receipt-sink.port';
import type { ReceiptTransport, ShipResult } from '../../../../core/ports/receipt-transport.port';
import { systemSleep } from '../../../../core/ports/sleep.port';
import { backoffMs, createReceiptShipper } from '../../../../core/router/audit/receipt-shipper';
import { openFileReceiptSpool } from '../../../../sandbox-node/router/audit/file-receipt-spool';
import { captureLogs } from '../../../support/log-sink';
import { modelReceipt } from '../../../sandbox-node/router/audit/receipt-fixture';

function scriptedTransport(answer: (batch: readonly RequestReceipt[], call: number) => ShipResult | Promise<ShipResult>) {
  const batches: RequestReceipt[][] = [];
  let calls = 0;
  const transport: ReceiptTransport = {
    async ship(receipts) {
      calls += 1;
      const r = await answer(receipts, calls);
      if (r.ok) batches.push([...receipts]);
      return r;
    },
  };
  return { transport, batches, calls: () => calls };
}
const accepted = (b: readonly RequestReceipt[]): ShipResult => ({ ok: true, ids: b.map((_, i) => `audit-00:000000000001:${String(i).padStart(3, '0')}`) });

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('receipt shipper', () => {
  it('cuts full batches at maxBatch and ships the remainder after maxDelayMs', async () => {
    const spool = await openFileReceiptSpool({ dir: mkdtempSync(join(tmpdir(), 'kars-ship-')), logger: silentLogger });
    const t = scriptedTransport(accepted);
    const shipper = createReceiptShipper({ spool, transport: t.transport, sleep: systemSleep, logger: silentLogger }, { maxBatch: 8, maxDelayMs: 150 });
    shipper.start();
    await Promise.all(Array.from({ length: 20 }, (_, i) => shipper.append(modelReceipt(i + 1))));
    await until(() => t.batches.flat().length === 20);
    expect(t.batches.map((b) => b.length)).toEqual([8, 8, 4]);
    expect(t.batches.flat().map((r) => r.subject['responseId'])).toEqual(Array.from({ length: 20 }, (_, i) => `c${i + 1}`));
    await until(() => spool.pending === 0);
    await shipper.stop(100);
    await spool.close();
  });

  it('never makes an append wait on the transport; retries an outage until the app takes every receipt', async () => {
    const spool = await openFileReceiptSpool({ dir: mkdtempSync(join(tmpdir(), 'kars-ship-')), logger: silentLogger });
    let up = false;
    let release: () => void = () => undefined;
    const hanging = new Promise<void>((r) => { release = r; });
    const t = scriptedTransport(async (b, call) => {
      if (call === 1) { await hanging; return { ok: false, action: 'retry', code: 'DEPENDENCY_UNAVAILABLE' }; }
      return up ? accepted(b) : { ok: false, action: 'retry', code: 'HTTP_503' };
    });
    const logs = captureLogs();
    const shipper = createReceiptShipper({ spool, transport: t.transport, sleep: systemSleep, logger: logs.logger }, { maxBatch: 4, maxDelayMs: 10, backoffBaseMs: 20, backoffMaxMs: 40 });
    shipper.start();
    await shipper.append(modelReceipt(1));
    await until(() => t.calls() === 1);
    // The transport hangs: appends still complete as soon as they are on disk.
    const t0 = Date.now();
    await Promise.all([2, 3, 4, 5, 6].map((n) => shipper.append(modelReceipt(n))));
    expect(Date.now() - t0).toBeLessThan(1000);
    release();
    await until(() => t.calls() >= 4);
    expect(t.batches).toEqual([]);
    up = true;
    await until(() => t.batches.flat().length === 6);
    expect(t.batches.flat().map((r) => r.subject['responseId'])).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(logs.lines.some((l) => l.includes('router.receipts_ship_retry'))).toBe(true);
    await shipper.stop(100);
    await spool.close();
  });

  it('drops a batch the app can never take, with an error line, and goes on', async () => {
    const spool = await openFileReceiptSpool({ dir: mkdtempSync(join(tmpdir(), 'kars-ship-')), logger: silentLogger });
    const t = scriptedTransport((b, call) => (call === 1 ? { ok: false, action: 'drop', code: 'INPUT_INVALID' } : accepted(b)));
    const logs = captureLogs();
    const shipper = createReceiptShipper({ spool, transport: t.transport, sleep: systemSleep, logger: logs.logger }, { maxBatch: 2, maxDelayMs: 10 });
    shipper.start();
    await Promise.all([1, 2, 3].map((n) => shipper.append(modelReceipt(n))));
    await until(() => t.batches.flat().length === 1);
    expect(t.batches.flat()[0]!.subject['responseId']).toBe('c3');
    expect(logs.lines.find((l) => l.includes('router.receipts_dropped'))).toContain('"count":2');
    await shipper.stop(100);
    await spool.close();
  });

  it('backs off exponentially with jitter, capped', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 500, 30_000, 1))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffMs(3, 500, 30_000, 0)).toBe(1000);
  });
});
