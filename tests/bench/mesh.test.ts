// The mesh benchmark runs end to end (short) and prints our ratchet on both suites beside the AGT SDK's, per pattern.
// The ratios are the bench's finding on a loaded machine, not a test's: only their arithmetic is checked here.
import { describe, expect, it } from 'vitest';
import { runMeshBench } from '../../bench/mesh';

describe('bench/mesh', () => {
  it('prints one-way and ping-pong rates for both suites beside the AGT anchor', async () => {
    const lines: string[] = [];
    const r = await runMeshBench({ rounds: 1, oneWayMessages: 40, pingPongMessages: 20, log: (l) => lines.push(l) });
    for (const pattern of [r.oneWay, r.pingPong]) for (const rate of Object.values(pattern)) expect(rate).toBeGreaterThan(0);
    expect(r.pingPongRatio.xsalsa20poly1305).toBeCloseTo(r.pingPong.xsalsa20poly1305 / r.pingPong.agt, 6);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/one-way: ours xsalsa20poly1305 [\d,]+ msg\/s \(\d+\.\d\dx\), ours chacha20poly1305 .* anchor AGT DoubleRatchet [\d,]+ msg\/s \(goal >= 1\.5x/);
    expect(lines[1]).toMatch(/ping-pong: .* anchor AGT DoubleRatchet [\d,]+ msg\/s \(goal >= 10x/);
  });
});
