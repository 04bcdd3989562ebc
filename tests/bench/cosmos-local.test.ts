// The local Cosmos create-rate benchmark runs end to end (short) and prints the journaled rate beside the in-memory
// anchor; group commit shows as more than one create per fdatasync once writes run in parallel.
import { describe, expect, it } from 'vitest';
import { benchCosmosLocal } from '../../bench/cosmos-local';

describe('bench/cosmos-local', () => {
  it('prints the journaled create rate beside the in-memory anchor at 1 and 16 in flight', async () => {
    const lines: string[] = [];
    const figures = await benchCosmosLocal({ creates: 120, rounds: 1, log: (l) => lines.push(l) });
    expect(figures.map((f) => f.inFlight)).toEqual([1, 16]);
    for (const f of figures) {
      expect(f.durablePerSec).toBeGreaterThan(0);
      expect(f.ratio).toBeCloseTo(f.durablePerSec / f.memoryPerSec, 6);
    }
    // One create in flight: one commit each (nothing to share). Sixteen: commits are shared.
    expect(figures[0]!.recordsPerCommit).toBeCloseTo(1, 0);
    expect(figures[1]!.recordsPerCommit).toBeGreaterThan(1.5);
    expect(lines.join('\n')).toMatch(/docs\/s.*anchor: same stand-in in memory \d+ docs\/s \(ratio \d+\.\d\d/);
  }, 120_000);
});
