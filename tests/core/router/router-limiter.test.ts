import { describe, expect, it } from 'vitest';
import { createRouterLimiter, retryAfterSeconds } from '../../../core/router/router-limiter';

describe('router limiter', () => {
  it('per agent: burst 100 then 50 rps; a refused request takes nothing from the global bucket', () => {
    const l = createRouterLimiter({ globalRps: 500, globalBurst: 1000, agentRps: 50, agentBurst: 100 });
    const t0 = 1_000_000;
    let passed = 0;
    for (let i = 0; i < 300; i++) if (l.admit('a', t0).allowed) passed++;
    expect(passed).toBe(100);
    const refused = l.admit('a', t0);
    expect(refused).toMatchObject({ allowed: false, scope: 'agent' });
    expect(retryAfterSeconds((refused as { retryAfterMs: number }).retryAfterMs)).toBe(1);
    let later = 0;
    for (let i = 0; i < 100; i++) if (l.admit('a', t0 + 1000).allowed) later++;
    expect(later).toBe(50);
  });
  it('a refused request takes nothing from the global bucket', () => {
    const l = createRouterLimiter({ globalRps: 1, globalBurst: 150, agentRps: 50, agentBurst: 100 });
    for (let i = 0; i < 300; i++) l.admit('flooder', 0); // 100 pass, 200 refused by the agent bucket
    let other = 0;
    for (let i = 0; i < 100; i++) if (l.admit('quiet', 0).allowed) other++;
    expect(other).toBe(50);
  });
  it('global: many agents together stop at the global burst', () => {
    const l = createRouterLimiter({ globalRps: 10, globalBurst: 20, agentRps: 50, agentBurst: 100 });
    let passed = 0;
    let globalRefusals = 0;
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 5; j++) {
        const r = l.admit(`agent-${i}`, 0);
        if (r.allowed) passed++;
        else if (r.scope === 'global') globalRefusals++;
      }
    }
    expect(passed).toBe(20);
    expect(globalRefusals).toBe(30);
  });
});
