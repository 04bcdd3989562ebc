import { describe, expect, it } from 'vitest';
import { decideEdgeAdmission, retryAfterSeconds, DEFAULT_AGENT_LIMIT, DEFAULT_GLOBAL_LIMIT, type EdgeLimitsConfig, type EdgeLimitStates } from '../../../core/limits/edge-admission';
import { periodStart } from '../../../core/limits/tenant-budget';
import { perSecond } from '../../../core/limits/token-bucket';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const config: EdgeLimitsConfig = {
  global: DEFAULT_GLOBAL_LIMIT,
  agent: DEFAULT_AGENT_LIMIT,
  tenant: { requestRate: perSecond(20, 40), requestQuota: { limit: 1000, periodMs: DAY }, modelTokenQuota: { limit: 100, periodMs: DAY } },
};

function drive(count: number, nowMs: number, start: EdgeLimitStates = {}) {
  let states = start;
  const outcomes: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const d = decideEdgeAdmission(states, nowMs, 0, config);
    outcomes.push(d.admission.outcome === 'rate-limited' ? `429:${d.admission.scope}` : d.admission.outcome);
    if (d.admission.outcome === 'allowed') states = { ...states, ...d.next };
    else expect(d.next).toEqual({});
  }
  return { states, outcomes };
}

describe('decideEdgeAdmission', () => {
  it('uses the seed limits: 500 rps burst 1000 global, 50 rps burst 100 per agent', () => {
    expect(DEFAULT_GLOBAL_LIMIT).toEqual({ capacity: 1000, refillTokens: 500, refillPeriodMs: 1000 });
    expect(DEFAULT_AGENT_LIMIT).toEqual({ capacity: 100, refillTokens: 50, refillPeriodMs: 1000 });
  });

  it('admits the tenant burst, then answers 429 scoped to the tenant with the tenant wait', () => {
    const { outcomes } = drive(41, T0);
    expect(outcomes.slice(0, 40).every((o) => o === 'allowed')).toBe(true);
    expect(outcomes[40]).toBe('429:tenant');
  });

  it('reports the agent scope when the agent bucket is the one that is empty, and consumes nothing on refusal', () => {
    const states: EdgeLimitStates = { agent: { level: 0, atMs: T0 } };
    const d = decideEdgeAdmission(states, T0, 0, config);
    expect(d.admission).toEqual({ outcome: 'rate-limited', scope: 'agent', retryAfterMs: 20 });
  });

  it('reports the longest wait when several scopes refuse', () => {
    const states: EdgeLimitStates = { agent: { level: 0, atMs: T0 }, global: { level: -19_000, atMs: T0 } };
    expect(decideEdgeAdmission(states, T0, 0, config).admission).toEqual({ outcome: 'rate-limited', scope: 'global', retryAfterMs: 40 });
  });

  it('answers quota-spent (403) before any rate, also for a token quota spent with a 0-token request', () => {
    const spent: EdgeLimitStates = {
      agent: { level: 0, atMs: T0 },
      tenant: { modelTokenQuota: { used: 100, periodStartMs: periodStart(T0, DAY) } },
    };
    expect(decideEdgeAdmission(spent, T0, 0, config).admission).toEqual({ outcome: 'quota-spent', scope: 'tokens', resetsAtMs: periodStart(T0, DAY) + DAY });
  });

  it('Retry-After is whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(2)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});
