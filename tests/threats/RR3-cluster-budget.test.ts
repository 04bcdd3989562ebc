// RR3 (per-cluster token budget): with only per-tenant budgets, a noisy tenant that stays within its own budget can
// Defends: cluster-budget, tenant-share
// still spend the whole model deployment and starve its peers. The cluster budget caps the sum over tenants and each
// tenant's share of it. Three limiter instances share one store; the model deployment is a stand-in that serves a
// fixed number of tokens per period and throttles after that, as an Azure OpenAI deployment's quota does.
import { describe, expect, it } from 'vitest';
import { createSharedEdgeLimiter, type SharedEdgeLimiterOptions } from '../../adapters/edge-limiter/shared-edge-limiter';
import { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import type { ClusterBudgetConfig } from '../../core/limits/cluster-budget';
import { perSecond } from '../../core/limits/token-bucket';
import type { EdgeAdmission } from '../../core/ports/edge-limiter.port';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR) + 1000;
/** What the model deployment behind the cluster can serve per period. */
const DEPLOYMENT_TOKENS = 100_000;
const TOKENS_PER_REQUEST = 1000;
const CLUSTER: ClusterBudgetConfig = { modelTokenQuota: { limit: DEPLOYMENT_TOKENS, periodMs: HOUR }, maxTenantShare: 0.5 };
/** Per-tenant budgets sized independently, each allowing the whole deployment (the usual oversubscription). */
const TENANT_BUDGET = {
  requestRate: perSecond(10_000, 10_000),
  modelTokenQuota: { limit: DEPLOYMENT_TOKENS, periodMs: HOUR },
};

/** Stand-in for the model deployment: serves until its per-period token capacity is used, then throttles. */
function modelDeployment(capacity: number) {
  let used = 0;
  return {
    call(tokens: number): 'served' | 'throttled' {
      if (used + tokens > capacity) return 'throttled';
      used += tokens;
      return 'served';
    },
    get used() { return used; },
  };
}

async function scenario(cluster: ClusterBudgetConfig | false) {
  let t = T0;
  const clock = { nowMs: () => t };
  const store = new MemoryDocumentStore({ clock });
  const options: SharedEdgeLimiterOptions = { clock, cluster, tenantBudget: TENANT_BUDGET, agent: perSecond(10_000, 10_000), global: perSecond(10_000, 10_000) };
  const instances = [0, 1, 2].map(() => createSharedEdgeLimiter(store, options));
  const upstream = modelDeployment(DEPLOYMENT_TOKENS);
  const tally = new Map<string, { admitted: number; served: number; refusals: EdgeAdmission[] }>();
  let n = 0;
  const send = async (tenant: string, count: number) => {
    const row = tally.get(tenant) ?? { admitted: 0, served: 0, refusals: [] };
    tally.set(tenant, row);
    for (let i = 0; i < count; i += 1) {
      t += 5;
      const a = await instances[n++ % instances.length]!.admit(tenant, `${tenant}-agent`, TOKENS_PER_REQUEST);
      if (a.outcome !== 'allowed') {
        row.refusals.push(a);
        continue;
      }
      row.admitted += 1;
      if (upstream.call(TOKENS_PER_REQUEST) === 'served') row.served += 1;
    }
  };
  // The noisy tenant asks for twice the deployment's capacity; then a quiet peer needs a little.
  await send('noisy', 2 * (DEPLOYMENT_TOKENS / TOKENS_PER_REQUEST));
  await send('quiet', 20);
  return { noisy: tally.get('noisy')!, quiet: tally.get('quiet')!, upstream };
}

describe('RR3: cluster-wide token budget with a per-tenant share', () => {
  it('refuses the noisy tenant at its share (403) while the quiet tenant is still served', async () => {
    const { noisy, quiet, upstream } = await scenario(CLUSTER);
    const share = DEPLOYMENT_TOKENS * CLUSTER.maxTenantShare;
    expect(noisy.admitted * TOKENS_PER_REQUEST).toBeLessThanOrEqual(share);
    // It got its share, not much less: leases may keep a few requests' worth unused in other instances.
    expect(noisy.admitted * TOKENS_PER_REQUEST).toBeGreaterThanOrEqual(share - 3 * TOKENS_PER_REQUEST);
    expect(noisy.refusals.length).toBeGreaterThan(0);
    for (const r of noisy.refusals) expect(r).toMatchObject({ outcome: 'quota-spent', scope: 'tokens', resetsAtMs: T0 - 1000 + HOUR });
    expect(quiet).toEqual({ admitted: 20, served: 20, refusals: [] });
    expect(upstream.used).toBeLessThanOrEqual(DEPLOYMENT_TOKENS);
  });

  it('with per-tenant budgets only (cluster budget off), the noisy tenant starves the cluster', async () => {
    const { noisy, quiet, upstream } = await scenario(false);
    // Within its own budget the noisy tenant takes the whole deployment...
    expect(noisy.admitted * TOKENS_PER_REQUEST).toBe(DEPLOYMENT_TOKENS);
    expect(upstream.used).toBe(DEPLOYMENT_TOKENS);
    // ...so its quiet peer, well within its own budget, is admitted at the edge and throttled upstream every time.
    expect(quiet.admitted).toBe(20);
    expect(quiet.served).toBe(0);
  });

  it('caps the sum over tenants even when each stays within its share (429 until the period ends)', async () => {
    let t = T0;
    const clock = { nowMs: () => t };
    const store = new MemoryDocumentStore({ clock });
    const limiter = createSharedEdgeLimiter(store, { clock, cluster: CLUSTER, tenantBudget: TENANT_BUDGET });
    const admittedTokens = new Map<string, number>();
    let last: EdgeAdmission | undefined;
    for (const tenant of ['a', 'b', 'c']) {
      for (let i = 0; i < 40; i += 1) { // 40 000 tokens each, within the 50 000 share
        t += 5;
        last = await limiter.admit(tenant, `${tenant}-agent`, TOKENS_PER_REQUEST);
        if (last.outcome === 'allowed') admittedTokens.set(tenant, (admittedTokens.get(tenant) ?? 0) + TOKENS_PER_REQUEST);
      }
    }
    const total = [...admittedTokens.values()].reduce((x, y) => x + y, 0);
    expect(total).toBeLessThanOrEqual(DEPLOYMENT_TOKENS);
    expect(total).toBeGreaterThanOrEqual(DEPLOYMENT_TOKENS - TOKENS_PER_REQUEST);
    expect(admittedTokens.get('c')).toBeGreaterThan(0);
    expect(last).toMatchObject({ outcome: 'rate-limited', scope: 'global' });
    expect(last?.outcome === 'rate-limited' && last.retryAfterMs).toBe(T0 - 1000 + HOUR - t);
  });
});
