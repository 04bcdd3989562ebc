// The router's durable receipt spool (T2-R): what was appended survives a reopen (a crash), acknowledged receipts do
// not come back, a torn last line is cut off, overflow beyond the memory bound is read back in order, and the size
// bound refuses with ROUTER_RECEIPT_SPOOL_FULL.
import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../core/ports/logger.port';
import { openFileReceiptSpool } from '../../../../sandbox-node/router/audit/file-receipt-spool';
import { modelReceipt } from './receipt-fixture';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'kars-spool-'));

describe('file receipt spool', () => {
  it('keeps appended receipts across a reopen and forgets acknowledged ones', async () => {
    const dir = fresh();
    const a = await openFileReceiptSpool({ dir, logger: silentLogger });
    const spooled = await Promise.all([1, 2, 3, 4, 5].map((n) => a.append(modelReceipt(n))));
    expect(spooled.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    await a.ack(2);
    // No close: the process dies here.
    const b = await openFileReceiptSpool({ dir, logger: silentLogger });
    expect(b.pending).toBe(3);
    const left = await b.peek(10);
    expect(left.map((s) => s.seq)).toEqual([3, 4, 5]);
    expect(left.map((s) => s.receipt)).toEqual([3, 4, 5].map((n) => modelReceipt(n)));
    expect((await b.append(modelReceipt(6))).seq).toBe(6);
    await b.ack(6);
    expect(b.pending).toBe(0);
    expect(statSync(join(dir, 'receipts.jsonl')).size).toBe(0);
    const c = await openFileReceiptSpool({ dir, logger: silentLogger });
    expect(await c.peek(10)).toEqual([]);
    expect((await c.append(modelReceipt(7))).seq).toBe(7);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('cuts a torn last line (a crash mid-write) and appends after it on a line of its own', async () => {
    const dir = fresh();
    const a = await openFileReceiptSpool({ dir, logger: silentLogger });
    await a.append(modelReceipt(1));
    appendFileSync(join(dir, 'receipts.jsonl'), '{"seq":2,"receipt":{"kind":"rou');
    const b = await openFileReceiptSpool({ dir, logger: silentLogger });
    expect((await b.peek(10)).map((s) => s.seq)).toEqual([1]);
    expect((await b.append(modelReceipt(2))).seq).toBe(2);
    const c = await openFileReceiptSpool({ dir, logger: silentLogger });
    expect((await c.peek(10)).map((s) => s.receipt.subject['responseId'])).toEqual(['c1', 'c2']);
    expect(readFileSync(join(dir, 'receipts.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('holds at most maxBuffered in memory and reads the rest back from disk, in order', async () => {
    const dir = fresh();
    const s = await openFileReceiptSpool({ dir, logger: silentLogger, maxBuffered: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.append(modelReceipt(i + 1))));
    const seen: number[] = [];
    for (;;) {
      const batch = await s.peek(3);
      if (batch.length === 0) break;
      expect(batch.length).toBeLessThanOrEqual(3);
      seen.push(...batch.map((b) => b.seq));
      await s.ack(batch.at(-1)!.seq);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.pending).toBe(0);
    await s.close();
  });

  it('refuses an append beyond the size bound with ROUTER_RECEIPT_SPOOL_FULL, and takes more once shipped', async () => {
    const dir = fresh();
    const one = JSON.stringify({ seq: 1, receipt: modelReceipt(1) }).length + 1;
    const s = await openFileReceiptSpool({ dir, logger: silentLogger, maxBytes: one * 3 });
    await s.append(modelReceipt(1));
    await s.append(modelReceipt(2));
    await expect(s.append(modelReceipt(3))).rejects.toMatchObject({ code: 'ROUTER_RECEIPT_SPOOL_FULL' });
    await s.ack(2);
    expect((await s.append(modelReceipt(3))).seq).toBe(3);
    await s.close();
  });
});
