import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import {
  assertClusterBudgetConfig, assertQuotaCounters, clusterQuotaLimits, nextPeriodEndMs, returnToQuotas, takeFromQuotas,
  tenantShareLimits, type ClusterBudgetConfig, type QuotaCounters, type QuotaLimits,
} from '../../../core/limits/cluster-budget';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR); // start of an hour
const CONFIG: ClusterBudgetConfig = {
  requestQuota: { limit: 1000, periodMs: HOUR },
  modelTokenQuota: { limit: 50_000, periodMs: HOUR },
  maxTenantShare: 0.4,
};
const LIMITS = clusterQuotaLimits(CONFIG);
const amount = (requests: number, modelTokens = 0) => ({ requests, modelTokens });

describe('takeFromQuotas', () => {
  it('takes the wanted amount and counts it in the current period', () => {
    const r = takeFromQuotas(undefined, T0 + 5, amount(10, 300), LIMITS);
    expect(r).toEqual({
      allowed: true,
      granted: amount(10, 300),
      state: { requests: { used: 10, periodStartMs: T0 }, modelTokens: { used: 300, periodStartMs: T0 } },
    });
  });

  it('falls back to the minimum so the last units of a quota stay usable', () => {
    const state: QuotaCounters = { requests: { used: 995, periodStartMs: T0 } };
    expect(takeFromQuotas(state, T0, amount(10), LIMITS, { min: amount(1) })).toMatchObject({ allowed: true, granted: amount(1) });
    expect(takeFromQuotas(state, T0, amount(10), LIMITS)).toMatchObject({ allowed: false, dimension: 'requests', resetAtMs: T0 + HOUR });
  });

  it('refuses even an amount of 0 once a quota is spent, with the period end', () => {
    const spent: QuotaCounters = { modelTokens: { used: 50_000, periodStartMs: T0 } };
    expect(takeFromQuotas(spent, T0 + 10, amount(1, 0), LIMITS)).toMatchObject({ allowed: false, dimension: 'modelTokens', resetAtMs: T0 + HOUR });
  });

  it('refuses an amount above the limit outright, with no reset that could help', () => {
    expect(takeFromQuotas(undefined, T0, amount(1, 50_001), LIMITS)).toMatchObject({ allowed: false, dimension: 'modelTokens', resetAtMs: undefined });
  });

  it('starts a new period from zero and keeps a counter from a later period (clock skew) as is', () => {
    const old: QuotaCounters = { requests: { used: 1000, periodStartMs: T0 - HOUR } };
    expect(takeFromQuotas(old, T0, amount(1), LIMITS)).toMatchObject({ allowed: true, state: { requests: { used: 1, periodStartMs: T0 } } });
    const ahead: QuotaCounters = { requests: { used: 1000, periodStartMs: T0 + HOUR } };
    expect(takeFromQuotas(ahead, T0 + 1, amount(1), LIMITS)).toMatchObject({ allowed: false, resetAtMs: T0 + 2 * HOUR });
  });

  it('does not count dimensions without a limit', () => {
    const onlyTokens: QuotaLimits = { modelTokens: { limit: 10, periodMs: HOUR } };
    const r = takeFromQuotas(undefined, T0, amount(1_000_000, 5), onlyTokens);
    expect(r).toMatchObject({ allowed: true, state: { modelTokens: { used: 5, periodStartMs: T0 } } });
    expect(r.state.requests).toBeUndefined();
  });

  it('rejects malformed input like the other limit functions', () => {
    expect(() => takeFromQuotas(undefined, -1, amount(1), LIMITS)).toThrow(RangeError);
    expect(() => takeFromQuotas(undefined, T0, amount(1.5), LIMITS)).toThrow(RangeError);
    expect(() => takeFromQuotas({ requests: { used: -1, periodStartMs: T0 } }, T0, amount(1), LIMITS)).toThrow(RangeError);
    expect(() => assertQuotaCounters({ requests: 'x' } as never)).toThrow(TypeError);
  });
});

describe('returnToQuotas', () => {
  it('gives back unused units of the same period, never below zero', () => {
    const state: QuotaCounters = { requests: { used: 40, periodStartMs: T0 }, modelTokens: { used: 100, periodStartMs: T0 } };
    expect(returnToQuotas(state, T0 + 10, amount(15, 500), T0 + 1, LIMITS)).toEqual({
      requests: { used: 25, periodStartMs: T0 },
      modelTokens: { used: 0, periodStartMs: T0 },
    });
  });

  it('does not return units taken in an earlier period into the current one', () => {
    const state: QuotaCounters = { requests: { used: 40, periodStartMs: T0 } };
    expect(returnToQuotas(state, T0 + 10, amount(15), T0 - 1, LIMITS).requests).toEqual({ used: 40, periodStartMs: T0 });
  });
});

describe('tenant share and configuration', () => {
  it('caps each tenant at floor(limit × maxTenantShare) over the same period', () => {
    expect(tenantShareLimits(CONFIG)).toEqual({ requests: { limit: 400, periodMs: HOUR }, modelTokens: { limit: 20_000, periodMs: HOUR } });
    expect(tenantShareLimits({ modelTokenQuota: { limit: 7, periodMs: 1000 }, maxTenantShare: 0.5 })).toEqual({ modelTokens: { limit: 3, periodMs: 1000 } });
  });

  it('refuses shares outside (0, 1] and shares that leave a tenant nothing', () => {
    expect(() => assertClusterBudgetConfig({ ...CONFIG, maxTenantShare: 0 })).toThrow(RangeError);
    expect(() => assertClusterBudgetConfig({ ...CONFIG, maxTenantShare: 1.5 })).toThrow(RangeError);
    expect(() => assertClusterBudgetConfig({ ...CONFIG, maxTenantShare: Number.NaN })).toThrow(RangeError);
    expect(() => assertClusterBudgetConfig({ ...CONFIG, maxTenantShare: '0.5' as never })).toThrow(TypeError);
    expect(() => assertClusterBudgetConfig({ requestQuota: { limit: 3, periodMs: HOUR }, maxTenantShare: 0.2 })).toThrow(RangeError);
    expect(() => assertClusterBudgetConfig({ requestQuota: { limit: 0, periodMs: HOUR }, maxTenantShare: 1 })).toThrow(RangeError);
    expect(assertClusterBudgetConfig(CONFIG)).toBe(CONFIG);
  });

  it('gives the earliest period end of the configured quotas', () => {
    expect(nextPeriodEndMs(T0 + 5, { requests: { limit: 1, periodMs: HOUR }, modelTokens: { limit: 1, periodMs: 60_000 } })).toBe(T0 + 60_000);
    expect(nextPeriodEndMs(T0, {})).toBeUndefined();
  });
});

describe('properties', () => {
  it('never lets more than the limit be in use within a period, whatever the mix of takes and returns', () => {
    const limit = 100;
    const limits: QuotaLimits = { requests: { limit, periodMs: 1000 } };
    assertProperty(fc.property(
      fc.array(fc.record({ dt: fc.nat(300), take: fc.nat(30), min: fc.nat(5), ret: fc.boolean() }), { maxLength: 200 }),
      (ops) => {
        let state: QuotaCounters | undefined;
        let t = T0;
        // Units handed out and not returned, per period.
        const outstanding = new Map<number, number>();
        const leases: Array<{ units: number; at: number }> = [];
        for (const op of ops) {
          t += op.dt;
          if (op.ret && leases.length > 0) {
            const lease = leases.shift()!;
            state = returnToQuotas(state, t, amount(lease.units), lease.at, limits);
            const p = lease.at - (lease.at % 1000);
            if (p === t - (t % 1000)) outstanding.set(p, (outstanding.get(p) ?? 0) - lease.units);
            continue;
          }
          const r = takeFromQuotas(state, t, amount(op.take), limits, { min: amount(Math.min(op.min, op.take)) });
          state = r.state;
          if (r.allowed) {
            const p = t - (t % 1000);
            outstanding.set(p, (outstanding.get(p) ?? 0) + r.granted.requests);
            leases.push({ units: r.granted.requests, at: t });
          }
          for (const v of outstanding.values()) expect(v).toBeLessThanOrEqual(limit);
          expect(state.requests!.used).toBeLessThanOrEqual(limit);
        }
      },
    ), { numRuns: 300 });
  });
});
