// T4-I "Relay reads message content"
// Defends: the relay store takes ciphertext envelopes only; frames marked `plaintext: true` (the AGT 4.x client's legacy path) are refused.
// ON: the 4.x client's plaintext frame (payload only base64-wrapped) is refused with MESH_PLAINTEXT_REFUSED and nothing
// is stored, notified or receipted. OFF (`_disable: ['plaintext-refusal']`): the relay stores it, and the payload is
// readable by anyone who reads the store.
import { describe, expect, it } from 'vitest';
import { ed25519TimestampHeader, newAgent, prekeyBody, registerBody } from '../mesh/agt-sdk';
import { createMeshFixture, messageFrame } from '../mesh/mesh-fixture';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';

// What MeshClient.send() puts on the wire for a plaintext peer (mesh-client.js: `ciphertext: btoa(JSON.stringify(payload))`).
const secret = { card: '4111 1111 1111 1111' };
const plaintextFrame = (from: string, to: string) => ({
  v: 1, type: 'message', from, to, id: 'pt-1', ts: new Date().toISOString(),
  ciphertext: Buffer.from(JSON.stringify(secret)).toString('base64'), plaintext: true,
});

async function setup(disable: MeshMitigation[]) {
  const f = createMeshFixture({ _disable: disable });
  const alice = newAgent('alice');
  const bob = newAgent('bob');
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(bob) });
  await f.call('PUT', `mesh/v1/agents/${encodeURIComponent(bob.did)}/prekeys`, { sandbox: 'sb-b', body: prekeyBody(bob, 1), authorization: ed25519TimestampHeader(bob, f.clock.nowMs()) });
  return { f, alice, bob };
}

describe('T4-I plaintext frames at the relay store', () => {
  it('ON: refused, nothing stored, notified or receipted; ciphertext frames still pass', async () => {
    const { f, alice, bob } = await setup([]);
    const r = await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: plaintextFrame(alice.did, bob.did) });
    expect(r).toMatchObject({ status: 400, body: { code: 'MESH_PLAINTEXT_REFUSED' } });
    expect((await f.inbox.query(bob.did, {})).items).toHaveLength(0);
    expect(f.notes).toHaveLength(0);
    expect(await f.meshReceipts()).toHaveLength(0);
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(alice.did, bob.did, 'sealed') })).status).toBe(202);
  });

  it('OFF: the plaintext frame is stored and its payload is readable from the store', async () => {
    const { f, alice, bob } = await setup(['plaintext-refusal']);
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: plaintextFrame(alice.did, bob.did) })).status).toBe(202);
    const stored = (await f.inbox.query<{ id: string; frame: { ciphertext: string } }>(bob.did, {})).items[0]!.doc;
    expect(JSON.parse(Buffer.from(stored.frame.ciphertext, 'base64').toString())).toEqual(secret);
  });

  it('receipts hold only the outer envelope: no ciphertext, header or payload bytes reach the audit chain', async () => {
    const { f, alice, bob } = await setup([]);
    const frame = messageFrame(alice.did, bob.did, 'm-sealed', { ciphertext: Buffer.from('canary-T4I-ciphertext').toString('base64') });
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frame })).status).toBe(202);
    const chain = JSON.stringify(await f.meshReceipts());
    expect(chain).toContain('m-sealed');
    expect(chain).not.toContain(frame.ciphertext as string);
    expect(chain).not.toContain('canary-T4I');
    expect(chain).not.toContain((frame.header as { dh: string }).dh);
  });
});
