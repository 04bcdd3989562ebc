// T4-R "Encrypted message not auditable"
// Defends: every relayed envelope's outer data (sender, recipient, mesh, time, size, message id) is appended to the receipt chain before it can be delivered; content stays sealed.
// ON: each accepted frame has a chain receipt whose hash recomputes from its subject; when the audit chain cannot take
// the receipt, the frame is taken back (503) and never delivered. OFF (`_disable: ['envelope-receipts']`): frames are
// delivered with no trace in the chain.
import { describe, expect, it } from 'vitest';
import { KarsError } from '../../core/errors';
import { envelopeHash } from '../../core/mesh/relay/envelope-receipt';
import type { EnvelopeSubject } from '../../core/mesh/relay/relay-frame';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';
import type { ReceiptSink } from '../../core/ports/receipt-sink.port';
import { newAgent, registerBody } from '../mesh/agt-sdk';
import { createMeshFixture, messageFrame, type MeshFixtureOptions } from '../mesh/mesh-fixture';

async function setup(disable: MeshMitigation[], extra: MeshFixtureOptions = {}) {
  const f = createMeshFixture({ _disable: disable, ...extra });
  const alice = newAgent('alice');
  const bob = newAgent('bob');
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(bob) });
  return { f, alice, bob };
}

describe('T4-R envelope receipts', () => {
  it('ON: one receipt per accepted envelope with the outer fields, hash recomputable; a duplicate adds none', async () => {
    const { f, alice, bob } = await setup([]);
    const frames = [messageFrame(alice.did, bob.did, 'r-1'), { v: 1, type: 'knock', from: alice.did, to: bob.did, id: 'k-1', ts: new Date().toISOString(), intent: { action: 'establish_session' } }];
    for (const frame of frames) expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frame })).status).toBe(202);
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frames[0] })).status).toBe(200);
    const receipts = await f.meshReceipts();
    expect(receipts).toHaveLength(2);
    for (const [i, r] of receipts.sort((x, y) => String((x.subject as EnvelopeSubject).messageId).localeCompare(String((y.subject as EnvelopeSubject).messageId))).entries()) {
      const subject = r.subject as EnvelopeSubject;
      expect(subject).toMatchObject({ mesh: 'test-mesh', sender: alice.did, recipient: bob.did, senderSandbox: 'sb-a', recipientSandbox: 'sb-b' });
      expect(['k-1', 'r-1'][i]).toBe(subject.messageId);
      expect(Number(subject.sizeBytes)).toBeGreaterThan(0);
      expect(r.requestHash).toBe(envelopeHash(subject));
      expect(r).toMatchObject({ outcome: 'accepted', status: 202 });
    }
  });

  it('ON: when the chain refuses the receipt the frame is not delivered (503); OFF: delivered without a receipt', async () => {
    const failing: ReceiptSink = { append: async () => { throw new KarsError('AUDIT_APPEND_CONTENDED', 'contended'); } };
    const on = await setup([], { receipts: failing });
    const r = await on.f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(on.alice.did, on.bob.did, 'x-1') });
    expect(r).toMatchObject({ status: 503, body: { code: 'DEPENDENCY_UNAVAILABLE' } });
    expect((await on.f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: on.bob.did } })).body.frames).toEqual([]);
    expect(on.f.notes).toHaveLength(0);

    const off = await setup(['envelope-receipts']);
    expect((await off.f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(off.alice.did, off.bob.did, 'x-1') })).status).toBe(202);
    expect((await off.f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: off.bob.did } })).body.frames).toHaveLength(1);
    expect(await off.f.meshReceipts()).toHaveLength(0);
  });
});
