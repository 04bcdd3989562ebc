// The edge benchmark runs end to end (short), prints both rates beside each other, the per-request server CPU
// breakdown, and the store writes per accepted webhook (closed loop, and at steady offered rates beside one entry per
// receipt), counted through the memory document stores.
import { describe, expect, it } from 'vitest';
import { BREAKDOWN_PARTS, runEdgeBench } from '../../bench/edge';

describe('bench/edge', () => {
  it('prints pipeline and anchor rates, the ratio, and at most 3 store writes per accepted webhook', async () => {
    const lines: string[] = [];
    const r = await runEdgeBench({ durationMs: 600, breakdownRequests: 300, warmupMs: 100, rounds: 2, concurrency: 4, sharedLimiterRequests: 400, rateSeconds: 0.5, log: (l) => lines.push(l) });
    expect(r.errors).toBe(0);
    expect(r.accepted).toBeGreaterThan(10);
    expect(r.pipelinePerSec).toBeGreaterThan(0);
    expect(r.barePerSec).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.pipelinePerSec / r.barePerSec, 6);
    expect(r.writes.replayClaims).toBe(1);
    expect(r.writes.registry).toBe(0);
    expect(r.storeWritesPerAccepted).toBeLessThanOrEqual(3);
    expect(r.queueSendsPerAccepted).toBe(1);
    // Steady rates: every request accepted, one replay claim each; batches never cost more receipt writes than one
    // entry per receipt, which writes at least one per webhook.
    expect(r.atRates.map((f) => [f.rps, f.batched, f.accepted])).toEqual([[40, true, 20], [40, false, 20], [500, true, 250], [500, false, 250]]);
    for (const f of r.atRates) expect(f.replayClaims).toBe(1);
    for (const f of r.atRates.filter((x) => !x.batched)) expect(f.receiptChain).toBeGreaterThanOrEqual(1);
    expect(r.atRates[2]!.receiptChain).toBeLessThanOrEqual(r.atRates[3]!.receiptChain);
    for (const v of Object.values(r.serverCpu)) expect(Number.isFinite(v)).toBe(true);
    // With the shared limiter of the Azure deployment the goal still holds at one instance.
    expect(r.withSharedLimiter.accepted).toBe(400);
    expect(r.withSharedLimiter.storeWritesPerAccepted).toBeLessThanOrEqual(3);
    // The breakdown names every part with a measured figure (its size is the bench's finding, not a test's).
    expect(Object.keys(r.breakdown)).toEqual([...BREAKDOWN_PARTS]);
    for (const part of BREAKDOWN_PARTS) expect(Number.isFinite(r.breakdown[part])).toBe(true);
    expect(lines.join('\n')).toMatch(/server CPU per request under load .* pipeline \d+ us = HTTP floor/);
    expect(lines.join('\n')).toMatch(/store writes per accepted webhook at 500 rps offered .*\| beside one entry per receipt: /);
    expect(lines.join('\n')).toMatch(/where the in-process time goes .*receipt -?\d+, signature -?\d+/);
    expect(lines.join('\n')).toMatch(/req\/s[\s\S]*anchor[\s\S]*ratio \d+\.\d\d \(goal >= 0\.4\)[\s\S]*store writes per accepted webhook \d+\.\d\d \(goal <= 3\)/);
  });
});
