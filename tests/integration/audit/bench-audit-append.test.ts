// Smoke run of the append benchmark at a small size: every scenario (batched, and one entry per receipt beside it) is
// verified after the load, each figure is printed beside its anchor, and the verifier figure runs.
import { describe, expect, it } from 'vitest';
import { benchAuditAppend } from '../../../bench/audit-append';

describe('bench/audit-append', () => {
  it('measures batched beside one entry per receipt, 1 and 4 chains, on cosmos-local, memory and the round-trip model', async () => {
    const lines: string[] = [];
    const result = await benchAuditAppend({
      appends: 40, batchedAppends: 200, instances: 2, concurrency: 8, checkpointEvery: 4, rttMs: 2, verifierReceipts: 3000,
      log: (l) => lines.push(l),
    });
    expect(result.scenarios.map((s) => [s.store, s.mode, s.chains])).toEqual([
      ['cosmos-local', 'single', 1], ['cosmos-local', 'single', 4], ['cosmos-local', 'batched', 1], ['cosmos-local', 'batched', 4],
      ['memory+rtt', 'single', 1], ['memory+rtt', 'single', 4], ['memory+rtt', 'batched', 1], ['memory+rtt', 'batched', 4],
      ['memory+rtt', 'batched', 1], ['memory', 'single', 1], ['memory', 'batched', 1],
    ]);
    for (const s of result.scenarios) {
      expect(s.verified).toBe(true);
      expect(s.perSec).toBeGreaterThan(0);
      expect(s.p95Ms).toBeGreaterThanOrEqual(s.p50Ms);
      // One entry per receipt writes at least one entry per receipt; batches write fewer under concurrent load.
      if (s.mode === 'single') expect(s.entryWritesPerReceipt).toBeGreaterThanOrEqual(1);
    }
    expect(result.scenarios.filter((s) => s.mode === 'batched').some((s) => s.entryWritesPerReceipt < 1)).toBe(true);
    expect(result.anchor.perSec).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('| anchor: '))).toHaveLength(5); // the 4 cosmos-local lines and the verifier
    expect(lines.filter((l) => l.includes('| beside one entry per receipt: '))).toHaveLength(6);
    expect(result.verifier).toMatchObject({ receipts: 3000, entries: Math.ceil(3000 / 256) });
    expect(lines.at(-1)).toMatch(/^audit verify \(in memory, entries already read\): 3000 receipts in 12 entries, \d+ ms .*\| anchor: SHA-256 alone/);
  }, 120_000);
});
