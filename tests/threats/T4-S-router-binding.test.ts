// Defends: T4-S
// T4-S "Peer claims someone else's identity", the router's DID binding and `connect` proof of possession: a sandbox
// router acts for one agent DID (configured, or bound at the first registration) and refuses registrations, sockets
// and frames for any other (MESH_DID_MISMATCH); a proof-of-possession `connect` (wire spec §12.2) must derive its DID
// from its key, verify, be within ±300 s and be new (MESH_CONNECT_PROOF_INVALID). ON the attack is refused; OFF (the
// bridge's `_disable`, unreachable from settings) it goes through.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BridgeMitigation } from '../../core/mesh/bridge/bridge-switches';
import { agt, newAgent, type TestAgent } from '../mesh/agt-sdk';
import { createMeshFixture, openSocket, registerThrough, startTestRouter } from '../mesh/bridge-fixture';
import { messageFrame } from '../mesh/mesh-fixture';

/** An agent whose DID derives from its Ed25519 key (`did:mesh:` + 32 hex of SHA-256). */
function provenAgent(): TestAgent & { edPublic: Uint8Array } {
  const a = newAgent('x');
  const edPublic = agt.ed25519.getPublicKey(a.edPrivate);
  return { ...a, edPublic, did: `did:mesh:${createHash('sha256').update(edPublic).digest('hex').slice(0, 32)}` };
}

function proofConnect(agent: { did: string; edPublic: Uint8Array }, signWith: Uint8Array, atMs: number): Record<string, unknown> {
  const timestamp = new Date(atMs).toISOString();
  return {
    v: 1, type: 'connect', from: agent.did, public_key: Buffer.from(agent.edPublic).toString('base64'), timestamp,
    signature: Buffer.from(agt.ed25519.sign(new TextEncoder().encode(timestamp), signWith)).toString('base64'),
  };
}

const registerCall = (did: string, key: Uint8Array) => {
  const body = { did, public_key: Buffer.from(key).toString('base64url'), capabilities: [], metadata: {} };
  return { method: 'POST', path: 'v1/agents', query: '', authorization: undefined, contentType: 'application/json', json: body, bytes: new TextEncoder().encode(JSON.stringify(body)) };
};

describe('T4-S: the router binds its agent DID', () => {
  it('a registration for another DID is refused ON; OFF it takes the sandbox\'s registry binding', async () => {
    for (const disable of [undefined, ['did-binding'] as BridgeMitigation[]]) {
      const f = createMeshFixture();
      const alice = newAgent('alice');
      const mallory = newAgent('mallory');
      // The sandbox is configured for Alice, who has not registered yet.
      const router = await startTestRouter(f, 'sb-a', { agentDid: alice.did, ...(disable ? { disable } : {}) });
      const answer = await router.bridge.registry(registerCall(mallory.did, mallory.keys.identityKey.publicKey));
      if (disable) {
        expect(answer).toMatchObject({ kind: 'upstream', answer: { status: 201 } });
        expect((await f.call('GET', `mesh/v1/agents/${encodeURIComponent(mallory.did)}`)).status).toBe(200);
      } else {
        expect(answer).toEqual({ kind: 'refused', code: 'MESH_DID_MISMATCH', message: expect.any(String) });
        expect((await f.call('GET', `mesh/v1/agents/${encodeURIComponent(mallory.did)}`)).status).toBe(404);
        // Alice's own registration goes through.
        await registerThrough(router, alice, f.clock.nowMs());
      }
    }
  });

  it('the first registration binds; afterwards other DIDs are refused for registration, prekeys, sockets and frames', async () => {
    const f = createMeshFixture();
    const alice = newAgent('alice');
    const mallory = newAgent('mallory');
    const bob = newAgent('bob');
    const router = await startTestRouter(f, 'sb-a');
    const routerB = await startTestRouter(f, 'sb-b');
    await registerThrough(router, alice, f.clock.nowMs());
    await registerThrough(routerB, bob, f.clock.nowMs());
    expect(await router.bridge.registry(registerCall(mallory.did, mallory.keys.identityKey.publicKey))).toMatchObject({ kind: 'refused', code: 'MESH_DID_MISMATCH' });
    const prekeys = await router.bridge.registry({ method: 'PUT', path: `v1/agents/${encodeURIComponent(mallory.did)}/prekeys`, query: '', authorization: undefined, contentType: 'application/json', json: {}, bytes: new Uint8Array() });
    expect(prekeys).toMatchObject({ kind: 'refused', code: 'MESH_DID_MISMATCH' });
    // An agent-written router key in the metadata is refused: only the router publishes it.
    const spoof = registerCall(alice.did, alice.keys.identityKey.publicKey);
    const withKey = { ...spoof, json: { ...(spoof.json as object), metadata: { kars_router_key: 'x' } } };
    expect(await router.bridge.registry(withKey)).toMatchObject({ kind: 'refused', code: 'INPUT_INVALID' });

    const socket = openSocket(router.bridge);
    await socket.send({ v: 1, type: 'connect', from: mallory.did });
    expect(socket.closes).toEqual([{ code: 1008, reason: 'MESH_DID_MISMATCH' }]);

    const own = openSocket(router.bridge);
    await own.send({ v: 1, type: 'connect', from: alice.did });
    await own.send({ v: 1, type: 'message', from: mallory.did, to: bob.did, id: 'm-spoof', ts: new Date().toISOString(), header: { dh: 'AA==', pn: 0, n: 0 }, ciphertext: 'AA==' });
    expect(own.received).toEqual([expect.objectContaining({ type: 'error', id: 'm-spoof', code: 'MESH_DID_MISMATCH' })]);
    expect(router.receipts.map((r) => r.code)).toEqual(['MESH_DID_MISMATCH']);
    // Plaintext from the bound agent is refused at the router too (T4-I), before the relay store.
    await own.send({ v: 1, type: 'message', from: alice.did, to: bob.did, id: 'm-plain', ts: new Date().toISOString(), ciphertext: 'e30=', plaintext: true });
    expect(own.received.at(-1)).toMatchObject({ type: 'error', id: 'm-plain', code: 'MESH_PLAINTEXT_REFUSED' });
  });

  it('OFF, a socket connected as another DID is served the bound agent\'s frames', async () => {
    const f = createMeshFixture();
    const alice = newAgent('alice');
    const bob = newAgent('bob');
    const routerA = await startTestRouter(f, 'sb-a', { disable: ['did-binding'] });
    const routerB = await startTestRouter(f, 'sb-b');
    await registerThrough(routerA, alice, f.clock.nowMs());
    await registerThrough(routerB, bob, f.clock.nowMs());
    const bobSocket = openSocket(routerB.bridge);
    await bobSocket.send({ v: 1, type: 'connect', from: bob.did });
    await bobSocket.send(messageFrame(bob.did, alice.did, 'm-1'));
    const mallory = openSocket(routerA.bridge);
    await mallory.send({ v: 1, type: 'connect', from: newAgent('mallory').did });
    await routerA.bridge.pendingNoted();
    expect(mallory.received.map((r) => r.id)).toEqual(['m-1']);
  });
});

describe('T4-S: proof-of-possession connect (wire spec §12.2)', () => {
  const attacks: Array<[string, (a: ReturnType<typeof provenAgent>, nowMs: number) => Record<string, unknown>[]]> = [
    ['signed with another key', (a, now) => [proofConnect(a, agt.ed25519.utils.randomSecretKey(), now)]],
    ['a key whose DID is not the claimed one', (a, now) => {
      const other = provenAgent();
      return [{ ...proofConnect(other, other.edPrivate, now), from: a.did }];
    }],
    ['a proof 301 s old', (a, now) => [proofConnect(a, a.edPrivate, now - 301_000)]],
    ['a proof replayed on a second socket', (a, now) => {
      const p = proofConnect(a, a.edPrivate, now);
      return [p, p];
    }],
  ];
  for (const [name, frames] of attacks) {
    it(`${name}: refused ON, connected OFF`, async () => {
      for (const disable of [undefined, ['connect-proof'] as BridgeMitigation[]]) {
        const f = createMeshFixture();
        const agent = provenAgent();
        const router = await startTestRouter(f, 'sb-a', { agentDid: agent.did, ...(disable ? { disable } : {}) });
        const sent = frames(agent, f.clock.nowMs());
        let last = openSocket(router.bridge);
        for (const frame of sent) {
          last = openSocket(router.bridge);
          await last.send(frame);
        }
        if (disable) {
          expect(last.closes).toEqual([]);
          expect(router.bridge.connected).toBe(true);
        } else {
          expect(last.closes).toEqual([{ code: 1008, reason: 'MESH_CONNECT_PROOF_INVALID' }]);
          expect(last.received).toEqual([{ v: 1, type: 'error', code: 'MESH_CONNECT_PROOF_INVALID', message: 'connect proof refused' }]);
        }
      }
    });
  }

  it('a valid proof connects; the plain 4.x connect rests on the binding', async () => {
    const f = createMeshFixture();
    const agent = provenAgent();
    const router = await startTestRouter(f, 'sb-a', { agentDid: agent.did });
    const proven = openSocket(router.bridge);
    await proven.send(proofConnect(agent, agent.edPrivate, f.clock.nowMs()));
    expect(proven.closes).toEqual([]);
    const plain = openSocket(router.bridge);
    await plain.send({ v: 1, type: 'connect', from: agent.did });
    expect(plain.closes).toEqual([]);
    expect(proven.closes).toEqual([{ code: 4000, reason: 'replaced by a newer connection' }]);
  });
});
