// T4-D "Relay flooded by malicious peer" — the registry: one-time prekey draining and registration floods
// Defends: per-caller (router sandbox) and global token buckets on every registry route (429 + Retry-After).
// A router with a valid token for its own sandbox may fetch any agent's bundle; each fetch consumes one of that agent's
// one-time prekeys. ON: the caller gets its burst, then 429 with Retry-After; the victim keeps its remaining prekeys
// and another caller still gets one; the global bucket caps registrations from many sandboxes together.
// OFF (`_disable: ['registry-rate-limits']`): one caller drains every one-time prekey.
import { describe, expect, it } from 'vitest';
import { perSecond } from '../../core/limits/token-bucket';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';
import { ed25519TimestampHeader, newAgent, prekeyBody, registerBody } from '../mesh/agt-sdk';
import { createMeshFixture } from '../mesh/mesh-fixture';

const OPKS = 40;

async function setup(disable: MeshMitigation[]) {
  const f = createMeshFixture({ _disable: disable, registryAgentRate: perSecond(2, 10), registryGlobalRate: perSecond(500, 1000) });
  const bob = newAgent('bob');
  expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(bob) })).status).toBe(201);
  const put = await f.call('PUT', `mesh/v1/agents/${encodeURIComponent(bob.did)}/prekeys`, {
    sandbox: 'sb-b', body: prekeyBody(bob, OPKS), authorization: ed25519TimestampHeader(bob, f.clock.nowMs()),
  });
  expect(put.status).toBe(200);
  const fetchAs = (sandbox: string) => f.call('GET', `mesh/v1/agents/${encodeURIComponent(bob.did)}/prekeys`, { sandbox });
  return { f, bob, fetchAs };
}

describe('T4-D prekey drain', () => {
  it('ON: the draining router gets its burst (10) then 429 + Retry-After; bob keeps 30 one-time prekeys; another caller gets one', async () => {
    const { fetchAs } = await setup([]);
    const handed: number[] = [];
    let limited = 0;
    for (let i = 0; i < 60; i += 1) {
      const r = await fetchAs('sb-m');
      if (r.status === 429) {
        limited += 1;
        expect(r.body.code).toBe('LIMIT_RATE_EXCEEDED');
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      } else if (r.body.one_time_pre_key) handed.push(r.body.one_time_pre_key.key_id);
    }
    expect(handed).toHaveLength(10);
    expect(limited).toBe(50);
    const other = await fetchAs('sb-c');
    expect(other.status).toBe(200);
    expect(other.body.one_time_pre_key).not.toBeNull();
  });

  it('ON: the global bucket caps registrations from many sandboxes together', async () => {
    const f = createMeshFixture({ registryAgentRate: perSecond(2, 10), registryGlobalRate: perSecond(4, 8) });
    const statuses = [];
    for (let i = 0; i < 20; i += 1) statuses.push((await f.call('POST', 'mesh/v1/agents', { sandbox: `sb-${i}`, body: registerBody(newAgent(`a${i}`)) })).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(8);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12);
  });

  it('OFF: one router drains every one-time prekey', async () => {
    const { fetchAs } = await setup(['registry-rate-limits']);
    const handed = new Set<number>();
    for (let i = 0; i < 60; i += 1) {
      const r = await fetchAs('sb-m');
      expect(r.status).toBe(200);
      if (r.body.one_time_pre_key) handed.add(r.body.one_time_pre_key.key_id);
    }
    expect(handed.size).toBe(OPKS);
    expect((await fetchAs('sb-c')).body.one_time_pre_key).toBeNull();
  });
});
