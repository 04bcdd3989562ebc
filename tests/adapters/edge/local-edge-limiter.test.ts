import { describe, expect, it } from 'vitest';
import { createLocalEdgeLimiter } from '../../../adapters/edge/local-edge-limiter';
import { perSecond } from '../../../core/limits/token-bucket';
import { settableClock } from '../../core/edge/edge-fixture';

async function admitMany(limiter: ReturnType<typeof createLocalEdgeLimiter>, n: number, tenant: string, agent: string) {
  const out: string[] = [];
  for (let i = 0; i < n; i += 1) out.push((await limiter.admit(tenant, agent)).outcome);
  return out;
}

describe('in-process edge limiter', () => {
  it('holds the seed defaults: agent burst 100 then 50 rps; global burst 1000', async () => {
    const clock = settableClock();
    const limiter = createLocalEdgeLimiter({ clock, tenantBudget: { requestRate: perSecond(10_000, 10_000) } });
    const burst = await admitMany(limiter, 101, 't', 'agent-1');
    expect(burst.filter((o) => o === 'allowed')).toHaveLength(100);
    const denied = await limiter.admit('t', 'agent-1');
    expect(denied).toEqual({ outcome: 'rate-limited', scope: 'agent', retryAfterMs: 20 });
    clock.advance(1000);
    expect((await admitMany(limiter, 51, 't', 'agent-1')).filter((o) => o === 'allowed')).toHaveLength(50);
    // Global: the refill topped the global bucket up to its 1000 burst; other agents share what is left of it.
    let sinceRefill = 50;
    for (let a = 2; a <= 12; a += 1) sinceRefill += (await admitMany(limiter, 100, 't', `agent-${a}`)).filter((o) => o === 'allowed').length;
    expect(sinceRefill).toBe(1000);
    expect(await limiter.admit('t', 'agent-99')).toMatchObject({ outcome: 'rate-limited', scope: 'global' });
  });

  it('answers quota-spent (403 at the edge) once the tenant request quota is used up, until the period resets', async () => {
    const clock = settableClock(86_400_000 * 20_000);
    const limiter = createLocalEdgeLimiter({ clock, tenantBudget: (t) => ({ requestRate: perSecond(100, 100), requestQuota: { limit: t === 'small' ? 3 : 1000, periodMs: 86_400_000 } }) });
    expect(await admitMany(limiter, 3, 'small', 'a')).toEqual(['allowed', 'allowed', 'allowed']);
    expect(await limiter.admit('small', 'a')).toEqual({ outcome: 'quota-spent', scope: 'requests', resetsAtMs: 86_400_000 * 20_001 });
    expect(await limiter.admit('big', 'b')).toEqual({ outcome: 'allowed' });
    clock.advance(86_400_000);
    expect(await limiter.admit('small', 'a')).toEqual({ outcome: 'allowed' });
  });

  it('rate-limits on the tenant budget rate with a retry delay', async () => {
    const clock = settableClock();
    const limiter = createLocalEdgeLimiter({ clock, tenantBudget: { requestRate: perSecond(2, 2) } });
    expect(await admitMany(limiter, 2, 't', 'a')).toEqual(['allowed', 'allowed']);
    expect(await limiter.admit('t', 'b')).toEqual({ outcome: 'rate-limited', scope: 'tenant', retryAfterMs: 500 });
  });

  it('keeps at most maxEntries agent states (a forgotten bucket restarts full)', async () => {
    const clock = settableClock();
    const limiter = createLocalEdgeLimiter({ clock, agent: perSecond(1, 1), maxEntries: 2, tenantBudget: { requestRate: perSecond(1000, 1000) } });
    expect((await limiter.admit('t', 'a1')).outcome).toBe('allowed');
    expect((await limiter.admit('t', 'a1')).outcome).toBe('rate-limited');
    await limiter.admit('t', 'a2');
    await limiter.admit('t', 'a3');
    expect((await limiter.admit('t', 'a1')).outcome).toBe('allowed');
  });
});
