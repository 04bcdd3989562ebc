// Smoke run of the append benchmark at a small size: every scenario's chains verify after the load, and each figure
// is printed beside its anchor.
import { describe, expect, it } from 'vitest';
import { benchAuditAppend } from '../../../bench/audit-append';

describe('bench/audit-append', () => {
  it('measures 1 vs 4 chains on cosmos-local, memory and the round-trip model, all verified', async () => {
    const lines: string[] = [];
    const result = await benchAuditAppend({ appends: 40, instances: 2, concurrency: 2, checkpointEvery: 8, rttMs: 2, log: (l) => lines.push(l) });
    expect(result.scenarios.map((s) => [s.store, s.chains])).toEqual([
      ['cosmos-local', 1], ['cosmos-local', 4], ['memory', 1], ['memory', 4], ['memory+rtt', 1], ['memory+rtt', 4],
    ]);
    for (const s of result.scenarios) {
      expect(s.verified).toBe(true);
      expect(s.perSec).toBeGreaterThan(0);
      expect(s.p95Ms).toBeGreaterThanOrEqual(s.p50Ms);
    }
    expect(result.anchor.perSec).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('| anchor: '))).toHaveLength(3);
  }, 60_000);
});
