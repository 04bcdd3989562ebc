// T4-D "Relay flooded by malicious peer" — one recipient's pending inbox
// Defends: a quota of pending (unacknowledged) frames and bytes per recipient at the relay store (MESH_INBOX_FULL).
// The per-sender rate limit alone lets a sender, given time, fill a recipient's inbox without bound (72 h TTL).
// ON: past the quota the post is 429 MESH_INBOX_FULL and nothing more is stored; acking frees room; another recipient
// is unaffected. OFF (`_disable: ['inbox-quota']`): the inbox grows with every post.
import { describe, expect, it } from 'vitest';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';
import { newAgent, registerBody } from '../mesh/agt-sdk';
import { createMeshFixture, messageFrame, type MeshFixtureOptions } from '../mesh/mesh-fixture';

async function setup(disable: MeshMitigation[], extra: MeshFixtureOptions = {}) {
  const f = createMeshFixture({ _disable: disable, inboxMaxFrames: 5, ...extra });
  const agents = { mallory: newAgent('mallory'), bob: newAgent('bob'), carol: newAgent('carol') };
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-m', body: registerBody(agents.mallory) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(agents.bob) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-c', body: registerBody(agents.carol) });
  return { f, ...agents };
}

const pending = async (f: Awaited<ReturnType<typeof setup>>['f'], did: string) =>
  (await f.inbox.query(did, { where: [{ field: 'acked', op: '=', value: false }] }, { pageSize: 1000 })).items.length;

describe('T4-D inbox quota', () => {
  it('ON: a recipient holds at most 5 pending frames; the 6th is 429 MESH_INBOX_FULL; an ack frees room', async () => {
    const { f, mallory, bob, carol } = await setup([]);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      // A second per attempt: the per-sender rate limit is not what stops this flood.
      f.clock.advance(1000);
      const r = await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-m', body: messageFrame(mallory.did, bob.did, `m-${i}`) });
      statuses.push(r.status);
      if (r.status === 429) expect(r.body.code).toBe('MESH_INBOX_FULL');
    }
    expect(statuses).toEqual([...Array(5).fill(202), ...Array(7).fill(429)]);
    expect(await pending(f, bob.did)).toBe(5);
    // Another recipient's inbox is its own.
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-m', body: messageFrame(mallory.did, carol.did, 'to-carol') })).status).toBe(202);
    // Bob's router fetches and acks two: two more fit.
    expect((await f.call('POST', 'mesh/relay/ack', { sandbox: 'sb-b', body: { did: bob.did, ids: ['m-0', 'm-1'] } })).body).toEqual({ acked: 2 });
    f.clock.advance(1000);
    const after = [];
    for (const id of ['a-1', 'a-2', 'a-3']) after.push((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-m', body: messageFrame(mallory.did, bob.did, id) })).status);
    expect(after).toEqual([202, 202, 429]);
  });

  it('ON: the byte quota counts the frames already pending plus the new one', async () => {
    const { f, mallory, bob } = await setup([], { inboxMaxFrames: 100, inboxMaxBytes: 2000 });
    const big = (id: string) => messageFrame(mallory.did, bob.did, id, { ciphertext: Buffer.alloc(450, 1).toString('base64') });
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-m', body: big(`b-${i}`) })).status);
    // Each frame is ~800 bytes of JSON: two fit in 2000, the third would not.
    expect(statuses).toEqual([202, 202, 429, 429, 429]);
  });

  it('OFF: every post is stored', async () => {
    const { f, mallory, bob } = await setup(['inbox-quota']);
    for (let i = 0; i < 12; i += 1) {
      f.clock.advance(1000);
      expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-m', body: messageFrame(mallory.did, bob.did, `m-${i}`) })).status).toBe(202);
    }
    expect(await pending(f, bob.did)).toBe(12);
  });
});
