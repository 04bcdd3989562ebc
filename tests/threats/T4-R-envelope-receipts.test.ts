// T4-R "Encrypted message not auditable"
// Defends: every relayed envelope's outer data (sender, recipient, mesh, time, size, message id) is appended to the receipt chain before it can be delivered; content stays sealed.
// ON: each accepted frame has a chain receipt whose hash recomputes from its subject; the receipt is appended before the
// frame is stored, so while the chain is slow or failing no fetch_pending can see the frame (503 when it fails).
// OFF (`_disable: ['envelope-receipts']`): frames are delivered with no trace in the chain.
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

  it('ON: while a slow receipt append is in flight the frame is not deliverable; when it then fails, never', async () => {
    let release!: (fail: boolean) => void;
    let started!: () => void;
    const appendStarted = new Promise<void>((r) => { started = r; });
    const slow: ReceiptSink = {
      append: async () => {
        started();
        if (await new Promise<boolean>((r) => { release = r; })) throw new KarsError('AUDIT_APPEND_CONTENDED', 'contended');
        return 'c:0:0';
      },
    };
    const { f, alice, bob } = await setup([], { receipts: slow });
    const posting = f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(alice.did, bob.did, 'slow-1') });
    await appendStarted;
    // The recipient's router fetches while the sender's receipt is still being written.
    expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames).toEqual([]);
    release(true);
    expect(await posting).toMatchObject({ status: 503, body: { code: 'DEPENDENCY_UNAVAILABLE' } });
    expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames).toEqual([]);
    expect(f.notes).toHaveLength(0);
  });

  it('ON: a chain that fails on the 3rd append, held open while the recipient fetches: every delivered frame has its receipt', async () => {
    let calls = 0;
    let real!: ReceiptSink;
    let entered!: () => void;
    let release!: () => void;
    const flaky: ReceiptSink = {
      append: async (receipt, o) => {
        calls += 1;
        const n = calls;
        entered();
        // Held until the test has fetched: the append is "slow" for as long as a concurrent fetch takes.
        await new Promise<void>((r) => { release = r; });
        if (n === 3) throw new KarsError('STORE_UNAVAILABLE', 'chain store down');
        return real.append(receipt, o);
      },
    };
    const { f, alice, bob } = await setup([], { receipts: flaky });
    real = f.chainSink;
    const delivered = new Set<string>();
    const fetchInto = async (): Promise<void> => {
      for (const frame of (await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames) delivered.add(frame.id);
    };
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i += 1) {
      const inAppend = new Promise<void>((r) => { entered = r; });
      const posting = f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(alice.did, bob.did, `n-${i}`) });
      await inAppend;
      await fetchInto();
      release();
      statuses.push((await posting).status);
      await fetchInto();
    }
    expect(statuses).toEqual([202, 202, 503, 202, 202]);
    const receipted = new Set((await f.meshReceipts()).map((r) => (r.subject as EnvelopeSubject).messageId));
    expect([...delivered].sort()).toEqual(['n-1', 'n-2', 'n-4', 'n-5']);
    for (const id of delivered) expect(receipted.has(id), `${id} delivered without a receipt`).toBe(true);
  });
});
