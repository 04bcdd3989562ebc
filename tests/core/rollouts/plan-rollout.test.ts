// Rollout planning: batch cutting (canary, counts, percentages), defaults, and every rejection path with its field.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { cutBatches, planRollout, resolveMaxUnavailable, ROLLOUT_DEFAULTS, ROLLOUT_LIMITS, type RolloutRequest } from '../../../core/rollouts/plan-rollout';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `sb-${i}`);
const req = (over: Partial<RolloutRequest> = {}): RolloutRequest => ({ revision: { id: 'v2', spec: { image: 'agent:2' } }, sandboxIds: ids(10), ...over });

function planned(r: RolloutRequest) {
  const p = planRollout(r);
  if (!p.ok) throw new Error(`unexpected rejection: ${p.message}`);
  return p.value;
}

describe('resolveMaxUnavailable', () => {
  it('caps counts at the fleet size and rounds percentages down, never below 1', () => {
    expect(resolveMaxUnavailable(3, 10)).toEqual({ ok: true, value: 3 });
    expect(resolveMaxUnavailable(50, 10)).toEqual({ ok: true, value: 10 });
    expect(resolveMaxUnavailable('25%', 10)).toEqual({ ok: true, value: 2 });
    expect(resolveMaxUnavailable('5%', 10)).toEqual({ ok: true, value: 1 });
    expect(resolveMaxUnavailable('100%', 7)).toEqual({ ok: true, value: 7 });
  });

  it.each([0, -1, 1.5, '0%', '101%', '25', 'abc%', '%'])('rejects %s', (v) => {
    expect(resolveMaxUnavailable(v as number | string, 10)).toMatchObject({ ok: false, code: 'ROLLOUT_PLAN_INVALID' });
  });
});

describe('cutBatches', () => {
  it('puts a canary batch first, then fixed-size batches in request order', () => {
    expect(cutBatches(['a', 'b', 'c', 'd', 'e', 'f'], 2, 1)).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
    expect(cutBatches(['a', 'b', 'c'], 5, 0)).toEqual([['a', 'b', 'c']]);
  });

  it('covers every id exactly once, in order, with no batch larger than its size', () => {
    assertProperty(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), fc.nat(), (n, size, canarySeed) => {
        const canary = canarySeed % (n + 1);
        const all = ids(n);
        const batches = cutBatches(all, size, canary);
        expect(batches.flat()).toEqual(all);
        batches.forEach((b, i) => {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(i === 0 && canary > 0 ? canary : size);
        });
      }),
    );
  });
});

describe('planRollout', () => {
  it('applies the defaults: one sandbox at a time, no tolerated failure', () => {
    const p = planned(req());
    expect(p.batches).toHaveLength(10);
    expect(p.total).toBe(10);
    expect(p.failureThreshold).toBe(ROLLOUT_DEFAULTS.failureThreshold);
    expect(p.health).toEqual(ROLLOUT_DEFAULTS.health);
    expect(p.applyRetry).toEqual(ROLLOUT_DEFAULTS.applyRetry);
  });

  it('cuts a canary and percentage batches and keeps explicit knobs', () => {
    const p = planned(req({ canarySize: 1, maxUnavailable: '30%', failureThreshold: 2, health: { intervalMs: 100, maxChecks: 3 }, applyRetry: { intervalMs: 10, maxAttempts: 2 } }));
    expect(p.batches.map((b) => b.length)).toEqual([1, 3, 3, 3]);
    expect(p.failureThreshold).toBe(2);
    expect(p.health).toEqual({ intervalMs: 100, maxChecks: 3 });
    expect(p.applyRetry).toEqual({ intervalMs: 10, maxAttempts: 2 });
  });

  it.each<[string, Partial<RolloutRequest>, RegExp]>([
    ['duplicate ids', { sandboxIds: ['a', 'b', 'a'] }, /repeat/],
    ['no sandboxes', { sandboxIds: [] }, /sandboxIds/],
    ['too many sandboxes', { sandboxIds: ids(ROLLOUT_LIMITS.maxSandboxes + 1) }, /sandboxIds/],
    ['a non-DNS id', { sandboxIds: ['Bad_Id'] }, /DNS-1123/],
    ['a bad revision id', { revision: { id: '../x', spec: {} } }, /revision\.id/],
    ['an array spec', { revision: { id: 'v2', spec: [] as unknown as Record<string, unknown> } }, /revision\.spec/],
    ['an oversized spec', { revision: { id: 'v2', spec: { blob: 'x'.repeat(ROLLOUT_LIMITS.maxSpecJsonChars) } } }, /revision\.spec/],
    ['a canary larger than the fleet', { canarySize: 11 }, /canarySize/],
    ['a threshold larger than the fleet', { failureThreshold: 11 }, /failureThreshold/],
    ['a negative threshold', { failureThreshold: -1 }, /failureThreshold/],
    ['a too-short health interval', { health: { intervalMs: 1 } }, /health\.intervalMs/],
    ['zero health checks', { health: { maxChecks: 0 } }, /health\.maxChecks/],
    ['too many apply attempts', { applyRetry: { maxAttempts: 99 } }, /applyRetry\.maxAttempts/],
    ['a fractional batch size', { maxUnavailable: 2.5 }, /maxUnavailable/],
  ])('rejects %s, naming the field', (_label, over, field) => {
    const p = planRollout(req(over));
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.code).toBe('ROLLOUT_PLAN_INVALID');
      expect(p.message).toMatch(field);
    }
  });

  it('rejects a spec that cannot be serialised', () => {
    const spec: Record<string, unknown> = {};
    spec.self = spec;
    expect(planRollout(req({ revision: { id: 'v2', spec } }))).toMatchObject({ ok: false, code: 'ROLLOUT_PLAN_INVALID' });
  });

  it('is deterministic: the same request always gives the same plan (orchestrator replays depend on it)', () => {
    const r = req({ canarySize: 2, maxUnavailable: 3 });
    expect(planned(r)).toEqual(planned(structuredClone(r)));
  });
});
