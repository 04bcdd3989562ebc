// Defends: T4-S
// T4-S "Peer claims someone else's identity", router half: before an agent sees a KNOCK, knock_accept or knock_reject,
// its router checks the sending sandbox router's countersignature (key from the sender's registry record), its
// freshness (±300 s), that the frame was not delivered before, and, for a KNOCK, the sender's trust score (threshold
// 500); below it the router answers knock_reject itself and audits it.
// Each attack runs through two routers' bridges over the real mesh routes, registry and relay store (in-process
// fixture): ON, the frame never reaches the agent and a `mesh.bridge` receipt names the code; OFF (the bridge's
// `_disable`, which no setting reaches), the same frame reaches the agent.
import { describe, expect, it } from 'vitest';
import type { BridgeMitigation } from '../../core/mesh/bridge/bridge-switches';
import { countersign } from '../../core/mesh/bridge/router-countersignature';
import { inboxEntryId } from '../../core/mesh/relay/inbox-entry';
import { newAgent } from '../mesh/agt-sdk';
import {
  createMeshFixture, fixedTrust, knockFrame, newSandboxSigner, openSocket, registerThrough, startTestRouter, type TestSocket,
} from '../mesh/bridge-fixture';

async function setup(o: { disable?: BridgeMitigation[]; aliceScore?: number | null } = {}) {
  const f = createMeshFixture();
  const alice = newAgent('alice');
  const bob = newAgent('bob');
  // null: no trust record for Alice at all.
  const trust = fixedTrust({ ...(o.aliceScore === null ? {} : { [alice.did]: o.aliceScore ?? 700 }), [bob.did]: 700 });
  const routerA = await startTestRouter(f, 'sb-a', { trust });
  // Only the receiving router runs with a mitigation off: that is the check under attack.
  const routerB = await startTestRouter(f, 'sb-b', { trust, ...(o.disable ? { disable: o.disable } : {}) });
  await registerThrough(routerA, alice, f.clock.nowMs());
  await registerThrough(routerB, bob, f.clock.nowMs());
  const agentA = openSocket(routerA.bridge);
  const agentB = openSocket(routerB.bridge);
  await agentA.send({ v: 1, type: 'connect', from: alice.did });
  await agentB.send({ v: 1, type: 'connect', from: bob.did });
  /** Router B learns of pending frames (the bus note) and pushes them. */
  const deliver = async (): Promise<void> => routerB.bridge.pendingNoted();
  const knocksAt = (s: TestSocket) => s.received.filter((r) => r.type === 'knock');
  return { f, alice, bob, routerA, routerB, agentA, agentB, deliver, knocksAt };
}

/** A frame posted to the relay store with sandbox A's router token, bypassing router A's bridge (a stolen token, a rogue process). */
const postAsSandboxA = (s: Awaited<ReturnType<typeof setup>>, frame: Record<string, unknown>) => s.f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frame });

describe('T4-S: KNOCK countersignature and trust gating at the receiving router', () => {
  it('baseline: a KNOCK through router A reaches Bob without the router field, and its answer reaches Alice', async () => {
    const s = await setup();
    await s.agentA.send(knockFrame(s.alice.did, s.bob.did, 'k-1', s.f.clock.nowMs()));
    await s.deliver();
    expect(s.knocksAt(s.agentB)).toHaveLength(1);
    expect(s.knocksAt(s.agentB)[0]).not.toHaveProperty('countersignature');
    await s.agentB.send({ v: 1, type: 'knock_accept', from: s.bob.did, to: s.alice.did, id: 'ka-1', knock_id: 'k-1', ts: new Date(s.f.clock.nowMs()).toISOString() });
    await s.routerA.bridge.pendingNoted();
    expect(s.agentA.received.filter((r) => r.type === 'knock_accept')).toHaveLength(1);
    expect(s.routerB.receipts).toEqual([]);
  });

  for (const [name, mitigation, forge] of [
    ['absent countersignature', 'countersignature', (s: Awaited<ReturnType<typeof setup>>) => knockFrame(s.alice.did, s.bob.did, 'k-absent', s.f.clock.nowMs())],
    ['countersignature by a key that is not router A\'s', 'countersignature', (s: Awaited<ReturnType<typeof setup>>) =>
      countersign(knockFrame(s.alice.did, s.bob.did, 'k-forged', s.f.clock.nowMs()), newSandboxSigner('sb-a'), s.f.clock.nowMs())],
    ['router A\'s countersignature over another frame', 'countersignature', (s: Awaited<ReturnType<typeof setup>>) => {
      const signed = countersign(knockFrame(s.alice.did, s.bob.did, 'k-moved', s.f.clock.nowMs()), s.routerA.signer, s.f.clock.nowMs());
      return { ...signed, intent: { action: 'delegate_task', description: 'wire the funds' } };
    }],
  ] as const) {
    it(`${name}: refused ON (audited), reaches the agent OFF`, async () => {
      const on = await setup();
      expect((await postAsSandboxA(on, forge(on))).status).toBe(202);
      await on.deliver();
      expect(on.knocksAt(on.agentB)).toEqual([]);
      expect(on.routerB.receipts.map((r) => r.code)).toEqual(['MESH_COUNTERSIGNATURE_INVALID']);
      expect(on.routerB.receipts[0]!.subject).toMatchObject({ sandboxId: 'sb-b', direction: 'inbound', type: 'knock', sender: on.alice.did, decision: 'refused' });
      // Acknowledged at the relay store: it does not come back.
      await on.deliver();
      expect(on.routerB.receipts).toHaveLength(1);

      const off = await setup({ disable: [mitigation] });
      expect((await postAsSandboxA(off, forge(off))).status).toBe(202);
      await off.deliver();
      expect(off.knocksAt(off.agentB)).toHaveLength(1);
    });
  }

  it('stale: a countersigned KNOCK held back past 300 s is refused ON, reaches the agent OFF', async () => {
    for (const disable of [undefined, ['countersignature-freshness'] as BridgeMitigation[]]) {
      const s = await setup(disable ? { disable } : {});
      await s.agentA.send(knockFrame(s.alice.did, s.bob.did, 'k-held', s.f.clock.nowMs()));
      s.f.clock.advance(301_000);
      await s.deliver();
      if (disable) {
        expect(s.knocksAt(s.agentB)).toHaveLength(1);
      } else {
        expect(s.knocksAt(s.agentB)).toEqual([]);
        expect(s.routerB.receipts.map((r) => r.code)).toEqual(['MESH_KNOCK_STALE']);
      }
    }
    // Inside the window it passes (either direction of skew).
    const s = await setup();
    await s.agentA.send(knockFrame(s.alice.did, s.bob.did, 'k-fresh', s.f.clock.nowMs()));
    s.f.clock.advance(299_000);
    await s.deliver();
    expect(s.knocksAt(s.agentB)).toHaveLength(1);
  });

  it('replayed: a delivered KNOCK put back into the store is refused ON, reaches the agent again OFF', async () => {
    for (const disable of [undefined, ['countersignature-replay'] as BridgeMitigation[]]) {
      const s = await setup(disable ? { disable } : {});
      await s.agentA.send(knockFrame(s.alice.did, s.bob.did, 'k-replay', s.f.clock.nowMs()));
      // The attacker captures router A's countersigned frame on its way (here: from the store before delivery).
      const captured = (await s.f.inbox.read<{ id: string; frame?: Record<string, unknown> }>(s.bob.did, inboxEntryId('k-replay')))!.doc.frame!;
      expect(captured).toHaveProperty('countersignature');
      await s.deliver();
      expect(s.knocksAt(s.agentB)).toHaveLength(1);
      // The store's tombstone is gone (store access, or past its TTL), and the capture is posted again, unchanged.
      await s.f.inbox.delete(s.bob.did, inboxEntryId('k-replay'));
      const resent = captured;
      s.f.clock.advance(10_000);
      expect((await postAsSandboxA(s, resent)).status).toBe(202);
      await s.deliver();
      if (disable) {
        expect(s.knocksAt(s.agentB)).toHaveLength(2);
      } else {
        expect(s.knocksAt(s.agentB)).toHaveLength(1);
        expect(s.routerB.receipts.map((r) => r.code)).toEqual(['MESH_KNOCK_REPLAYED']);
      }
    }
  });

  it('low trust: below 500 the router answers knock_reject itself and audits it ON; OFF the KNOCK reaches the agent', async () => {
    const on = await setup({ aliceScore: 320 });
    await on.agentA.send(knockFrame(on.alice.did, on.bob.did, 'k-low', on.f.clock.nowMs()));
    await on.deliver();
    expect(on.knocksAt(on.agentB)).toEqual([]);
    expect(on.routerB.receipts.map((r) => [r.code, r.subject.decision])).toEqual([['MESH_TRUST_INSUFFICIENT', 'auto-rejected']]);
    // Alice's router receives router B's own knock_reject, countersigned by B, and passes it to Alice.
    await on.routerA.bridge.pendingNoted();
    const rejects = on.agentA.received.filter((r) => r.type === 'knock_reject');
    expect(rejects).toEqual([expect.objectContaining({ from: on.bob.did, to: on.alice.did, knock_id: 'k-low', reason: 'insufficient_trust' })]);
    expect(on.routerA.receipts).toEqual([]);

    // At the threshold it passes; an unknown score (no trust record) is refused.
    const at = await setup({ aliceScore: 500 });
    await at.agentA.send(knockFrame(at.alice.did, at.bob.did, 'k-500', at.f.clock.nowMs()));
    await at.deliver();
    expect(at.knocksAt(at.agentB)).toHaveLength(1);

    const unknown = await setup({ aliceScore: null });
    await unknown.agentA.send(knockFrame(unknown.alice.did, unknown.bob.did, 'k-unknown', unknown.f.clock.nowMs()));
    await unknown.deliver();
    expect(unknown.knocksAt(unknown.agentB)).toEqual([]);
    expect(unknown.routerB.receipts.map((r) => r.code)).toEqual(['MESH_TRUST_INSUFFICIENT']);

    const off = await setup({ aliceScore: 320, disable: ['trust-gate'] });
    await off.agentA.send(knockFrame(off.alice.did, off.bob.did, 'k-low', off.f.clock.nowMs()));
    await off.deliver();
    expect(off.knocksAt(off.agentB)).toHaveLength(1);
  });

  it('a knock_accept or knock_reject needs the countersignature too', async () => {
    const s = await setup();
    const forgedAccept = { v: 1, type: 'knock_reject', from: s.alice.did, to: s.bob.did, id: 'kr-forged', knock_id: 'k-x', reason: 'policy_denied', ts: new Date(s.f.clock.nowMs()).toISOString() };
    expect((await postAsSandboxA(s, forgedAccept)).status).toBe(202);
    await s.deliver();
    expect(s.agentB.received.filter((r) => r.type === 'knock_reject')).toEqual([]);
    expect(s.routerB.receipts.map((r) => r.code)).toEqual(['MESH_COUNTERSIGNATURE_INVALID']);
  });
});
