// T4-D "Relay flooded by malicious peer"
// Defends: per-identity rate limit at the relay store plus a global limit (core/limits token buckets through the EdgeLimiter port).
// ON: a flooding sender is held to its bucket (429 + Retry-After) while another sender is still served, and the
// global bucket caps all senders together. OFF (`_disable: ['rate-limits']`): the flood is stored in full.
import { describe, expect, it } from 'vitest';
import { perSecond } from '../../core/limits/token-bucket';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';
import { newAgent, registerBody } from '../mesh/agt-sdk';
import { createMeshFixture, messageFrame } from '../mesh/mesh-fixture';

async function setup(disable: MeshMitigation[], globalBurst = 1000) {
  const f = createMeshFixture({ _disable: disable, agentRate: perSecond(5, 10), globalRate: perSecond(globalBurst / 2, globalBurst) });
  const agents = { mallory: newAgent('mallory'), carol: newAgent('carol'), bob: newAgent('bob') };
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-m', body: registerBody(agents.mallory) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-c', body: registerBody(agents.carol) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(agents.bob) });
  return { f, ...agents };
}

async function flood(f: Awaited<ReturnType<typeof setup>>['f'], sandbox: string, from: string, to: string, n: number, prefix: string) {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += 1) statuses.push((await f.call('POST', 'mesh/relay/frames', { sandbox, body: messageFrame(from, to, `${prefix}-${i}`) })).status);
  return statuses;
}

describe('T4-D relay flood', () => {
  it('ON: one identity gets its burst (10) then 429 with Retry-After; another identity is still served', async () => {
    const { f, mallory, carol, bob } = await setup([]);
    const statuses = await flood(f, 'sb-m', mallory.did, bob.did, 50, 'm');
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    const limited = await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-m', body: messageFrame(mallory.did, bob.did, 'm-x') });
    expect(limited.body.code).toBe('LIMIT_RATE_EXCEEDED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-c', body: messageFrame(carol.did, bob.did, 'c-1') })).status).toBe(202);
    expect((await f.inbox.query(bob.did, {})).items).toHaveLength(11);
    // The bucket refills: one second later five more pass.
    f.clock.advance(1000);
    expect((await flood(f, 'sb-m', mallory.did, bob.did, 8, 'm2')).filter((s) => s === 202)).toHaveLength(5);
  });

  it('ON: the global bucket caps all identities together', async () => {
    const { f, mallory, carol, bob } = await setup([], 12);
    const a = await flood(f, 'sb-m', mallory.did, bob.did, 10, 'm');
    const b = await flood(f, 'sb-c', carol.did, bob.did, 10, 'c');
    expect([...a, ...b].filter((s) => s === 202)).toHaveLength(12);
  });

  it('OFF: the whole flood is stored', async () => {
    const { f, mallory, bob } = await setup(['rate-limits']);
    expect((await flood(f, 'sb-m', mallory.did, bob.did, 50, 'm')).every((s) => s === 202)).toBe(true);
    expect((await f.inbox.query(bob.did, {}, { pageSize: 100 })).items).toHaveLength(50);
  });
});
