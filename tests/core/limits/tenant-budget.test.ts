import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { chargeTenantBudget, periodStart, settleModelTokens, type TenantBudgetConfig, type TenantBudgetState } from '../../../core/limits/tenant-budget';
import { perSecond } from '../../../core/limits/token-bucket';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const config: TenantBudgetConfig = {
  requestRate: perSecond(5, 10),
  requestQuota: { limit: 25, periodMs: DAY },
  modelTokenRate: perSecond(1000, 4000),
  modelTokenQuota: { limit: 10_000, periodMs: DAY },
};
const one = { requests: 1, modelTokens: 0 };

function chargeMany(count: number, nowMs: number, state?: TenantBudgetState) {
  let s = state;
  const decisions = [];
  for (let i = 0; i < count; i += 1) {
    const d = chargeTenantBudget(s, nowMs, one, config);
    decisions.push(d);
    if (d.allowed) s = d.state;
  }
  return { state: s, decisions };
}

describe('chargeTenantBudget: 429 while rate-bound, 403 when the quota is spent', () => {
  it('admits the request burst, then answers LIMIT_RATE_EXCEEDED with a retry delay', () => {
    const { decisions } = chargeMany(11, T0);
    expect(decisions.slice(0, 10).every((d) => d.allowed)).toBe(true);
    expect(decisions[10]).toMatchObject({ allowed: false, code: 'LIMIT_RATE_EXCEEDED', dimension: 'requests', retryAfterMs: 200 });
  });

  it('answers LIMIT_QUOTA_EXCEEDED once the daily quota is spent, even though the rate has refilled', () => {
    let state: TenantBudgetState | undefined;
    let now = T0;
    let admitted = 0;
    for (let i = 0; i < 40; i += 1) {
      now += 1000; // always within the rate
      const d = chargeTenantBudget(state, now, one, config);
      if (d.allowed) {
        state = d.state;
        admitted += 1;
      } else {
        expect(d).toMatchObject({ code: 'LIMIT_QUOTA_EXCEEDED', dimension: 'requests', resetAtMs: periodStart(T0, DAY) + DAY });
      }
    }
    expect(admitted).toBe(25);
  });

  it('prefers 403 over 429 when both the quota and the rate refuse', () => {
    const spent: TenantBudgetState = { requestQuota: { used: 25, periodStartMs: periodStart(T0, DAY) }, requestBucket: { level: 0, atMs: T0 } };
    expect(chargeTenantBudget(spent, T0, one, config)).toMatchObject({ allowed: false, code: 'LIMIT_QUOTA_EXCEEDED' });
  });

  it('resets the quota at the next epoch-aligned period', () => {
    const spent: TenantBudgetState = { requestQuota: { used: 25, periodStartMs: periodStart(T0, DAY) } };
    const nextDay = periodStart(T0, DAY) + DAY;
    expect(chargeTenantBudget(spent, nextDay - 1, one, config).allowed).toBe(false);
    const d = chargeTenantBudget(spent, nextDay, one, config);
    expect(d).toMatchObject({ allowed: true, state: { requestQuota: { used: 1, periodStartMs: nextDay } } });
  });

  it('refuses model tokens by rate (429) and by quota (403); a charge above the limit outright never passes', () => {
    expect(chargeTenantBudget(undefined, T0, { requests: 1, modelTokens: 3000 }, config).allowed).toBe(true);
    const afterBig = chargeTenantBudget(undefined, T0, { requests: 1, modelTokens: 4000 }, config);
    expect(afterBig.allowed).toBe(true);
    expect(chargeTenantBudget(afterBig.state, T0, { requests: 1, modelTokens: 500 }, config)).toMatchObject({
      allowed: false, code: 'LIMIT_RATE_EXCEEDED', dimension: 'modelTokens', retryAfterMs: 500,
    });
    const nearlySpent: TenantBudgetState = { modelTokenQuota: { used: 9_900, periodStartMs: periodStart(T0, DAY) } };
    expect(chargeTenantBudget(nearlySpent, T0, { requests: 1, modelTokens: 200 }, config)).toMatchObject({
      allowed: false, code: 'LIMIT_QUOTA_EXCEEDED', dimension: 'modelTokens',
    });
    expect(chargeTenantBudget(undefined, T0, { requests: 1, modelTokens: 20_000 }, config)).toMatchObject({
      allowed: false, code: 'LIMIT_QUOTA_EXCEEDED', resetAtMs: undefined,
    });
    expect(chargeTenantBudget(undefined, T0, { requests: 1, modelTokens: 5000 }, { requestRate: perSecond(5, 10), modelTokenRate: perSecond(1000, 4000) })).toMatchObject({
      allowed: false, code: 'LIMIT_QUOTA_EXCEEDED', dimension: 'modelTokens', resetAtMs: undefined,
    });
  });

  it('is all or nothing: a charge refused on model tokens consumes no request token (property)', () => {
    assertProperty(
      fc.property(fc.array(fc.record({ dt: fc.integer({ min: 0, max: 400 }), tokens: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 60 }), (steps) => {
        let state: TenantBudgetState | undefined;
        let now = T0;
        for (const { dt, tokens } of steps) {
          now += dt;
          const d = chargeTenantBudget(state, now, { requests: 1, modelTokens: tokens }, config);
          if (!d.allowed) expect(d.state).toBe(state ?? d.state);
          else state = d.state;
          const used = state?.requestQuota?.used ?? 0;
          expect(used).toBeLessThanOrEqual(25);
          expect(state?.modelTokenQuota?.used ?? 0).toBeLessThanOrEqual(10_000);
        }
      }),
    );
  });
});

describe('settleModelTokens', () => {
  it('refunds an over-estimate to quota and bucket, and charges an under-estimate', () => {
    const charged = chargeTenantBudget(undefined, T0, { requests: 1, modelTokens: 1000 }, config);
    expect(charged.allowed).toBe(true);
    const refunded = settleModelTokens(charged.state, T0, { reserved: 1000, actual: 300, reservedAtMs: T0 }, config);
    expect(refunded.modelTokenQuota).toEqual({ used: 300, periodStartMs: periodStart(T0, DAY) });
    expect(refunded.modelTokenBucket!.level).toBe((4000 - 300) * 1000);
    const extra = settleModelTokens(charged.state, T0, { reserved: 1000, actual: 1500, reservedAtMs: T0 }, config);
    expect(extra.modelTokenQuota!.used).toBe(1500);
  });

  it('does not refund a reservation from the previous period into the new one', () => {
    const yesterday = periodStart(T0, DAY) - 1;
    const charged = chargeTenantBudget(undefined, yesterday, { requests: 1, modelTokens: 1000 }, config);
    const settled = settleModelTokens(charged.state, T0, { reserved: 1000, actual: 300, reservedAtMs: yesterday }, config);
    expect(settled.modelTokenQuota).toEqual({ used: 300, periodStartMs: periodStart(T0, DAY) });
  });
});

describe('hostile inputs', () => {
  it('throws for non-integer charges and bad quota periods', () => {
    expect(() => chargeTenantBudget(undefined, T0, { requests: 1.5, modelTokens: 0 }, config)).toThrow(RangeError);
    expect(() => chargeTenantBudget(undefined, T0, { requests: 1, modelTokens: -1 }, config)).toThrow(RangeError);
    expect(() => chargeTenantBudget(undefined, Number.NaN, one, config)).toThrow(RangeError);
    expect(() => chargeTenantBudget(undefined, T0, one, { ...config, requestQuota: { limit: 1, periodMs: 0 } })).toThrow(RangeError);
  });
});
