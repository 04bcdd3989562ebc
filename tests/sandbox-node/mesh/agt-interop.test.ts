// T4-T: our mesh client and the unmodified AGT SDK 4.0.0 (X3DHKeyManager, SecureChannel, MeshClient) read each other's
// messages on the chacha20poly1305 suite, both directions, including the X3DH initial message; ours with ours on the
// default xsalsa20poly1305 suite.
import { SecureChannel } from '@microsoft/agent-governance-sdk';
import { describe, expect, it } from 'vitest';
import { verifyKnockFrame } from '../../../core/mesh/knock-signature';
import type { Result } from '../../../core/errors';
import { MeshSession } from '../../../sandbox-node/mesh/mesh-session';
import { buildSignedKnock, decodeEstablishment, decodeMessageFrame, encodeMessageFrame } from '../../../sandbox-node/mesh/mesh-wire-frames';
import { agtClient, agtKeyManager, ourPeer } from './mesh-peers';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
};
const OURS = 'did:mesh:ours';
const AGT = 'did:mesh:agt';

describe('interop with the AGT SDK on chacha20poly1305', () => {
  it('we initiate (X3DH against an AGT bundle with a one-time prekey), AGT SecureChannel responds; both directions', () => {
    const agtKm = agtKeyManager();
    const keys = ourPeer();
    const { session, establishment } = value(MeshSession.initiate(keys, agtKm.getPublicBundle(2), OURS, AGT, { suite: 'chacha20poly1305' }));
    expect(establishment.usedOneTimeKeyId).toBe(2);
    const agt = SecureChannel.createReceiver(agtKm, establishment, enc(`${OURS}|${AGT}`));
    for (let round = 0; round < 3; round += 1) {
      const batch = [0, 1, 2].map((i) => value(session.send(enc(`ours ${round}.${i}`))));
      // AGT reads them out of order within the chain.
      expect(dec(agt.receive(batch[2]!))).toBe(`ours ${round}.2`);
      expect(dec(agt.receive(batch[0]!))).toBe(`ours ${round}.0`);
      expect(dec(agt.receive(batch[1]!))).toBe(`ours ${round}.1`);
      const reply = agt.send(enc(`agt ${round}`));
      expect(dec(value(session.receive(reply)))).toBe(`agt ${round}`);
    }
  });

  it('AGT SecureChannel initiates against our bundle, we respond; both directions, and the one-time prekey is consumed', () => {
    const agtKm = agtKeyManager();
    const keys = ourPeer();
    const [agt, establishment] = SecureChannel.createSender(agtKm, keys.publicBundle(1), enc(`${AGT}|${OURS}`));
    const session = value(MeshSession.accept(keys, establishment, AGT, OURS, { suite: 'chacha20poly1305' }));
    expect(keys.takeOneTimePrekey(1)).toBeUndefined();
    for (let round = 0; round < 3; round += 1) {
      const a = agt.send(enc(`agt ${round}.a`));
      const b = agt.send(enc(`agt ${round}.b`));
      expect(dec(value(session.receive(b)))).toBe(`agt ${round}.b`);
      expect(dec(value(session.receive(a)))).toBe(`agt ${round}.a`);
      expect(dec(agt.receive(value(session.send(enc(`ours ${round}`)))))).toBe(`ours ${round}`);
    }
    // The same establishment again (replayed X3DH initial message) is refused: its one-time prekey is gone.
    expect(MeshSession.accept(keys, establishment, AGT, OURS, { suite: 'chacha20poly1305' })).toMatchObject({ ok: false, code: 'MESH_PREKEY_UNKNOWN' });
  });

  it('an AGT MeshClient KNOCKs us: we take the establishment from its frame, read its message frames, and it reads ours', async () => {
    const agtKm = agtKeyManager();
    const keys = ourPeer();
    const agt = await agtClient(AGT, agtKm);
    await agt.client.establishSession(OURS, keys.publicBundle(0));
    const knock = agt.sent.find((f) => f.type === 'knock')!;
    const est = value(decodeEstablishment(knock.establishment));
    expect(est.suite).toBe('chacha20poly1305');
    const session = value(MeshSession.accept(keys, est.establishment, AGT, OURS, { suite: est.suite }));
    await agt.client.send(OURS, { task: 'refund', amount: 12 });
    const frame = value(decodeMessageFrame(agt.sent.find((f) => f.type === 'message')));
    expect(JSON.parse(dec(value(session.receive(frame.message))))).toEqual({ task: 'refund', amount: 12 });
    const reply = value(session.send(enc(JSON.stringify({ done: true }))));
    await agt.deliver(encodeMessageFrame({ from: OURS, to: AGT, id: 'm-1', ts: new Date().toISOString() }, reply));
    expect(agt.received).toEqual([{ done: true }]);
    await agt.client.disconnect();
  });

  it('we KNOCK an AGT MeshClient with a signed KNOCK: it bootstraps from our establishment and reads our message frames', async () => {
    const agtKm = agtKeyManager();
    const keys = ourPeer();
    const agt = await agtClient(AGT, agtKm);
    const { session, establishment } = value(MeshSession.initiate(keys, agtKm.getPublicBundle(), OURS, AGT, { suite: 'chacha20poly1305' }));
    const knock = value(buildSignedKnock(keys, { from: OURS, to: AGT, id: 'k-1', ts: new Date().toISOString(), intent: { action: 'establish_session' } }, establishment, 'chacha20poly1305'));
    expect(verifyKnockFrame(knock, keys.identityKeyEd)).toMatchObject({ ok: true });
    await agt.deliver(knock);
    expect(agt.sent.find((f) => f.type === 'knock_accept')).toMatchObject({ to: OURS, knock_id: 'k-1' });
    for (let i = 0; i < 3; i += 1) {
      await agt.deliver(encodeMessageFrame({ from: OURS, to: AGT, id: `m-${i}`, ts: new Date().toISOString() }, value(session.send(enc(JSON.stringify({ i }))))));
    }
    expect(agt.received).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    await agt.client.send(OURS, { back: 1 });
    const frame = value(decodeMessageFrame(agt.sent.filter((f) => f.type === 'message').at(-1)));
    expect(JSON.parse(dec(value(session.receive(frame.message))))).toEqual({ back: 1 });
    await agt.client.disconnect();
  });

  it('the X3DH data in a first message frame (wire spec §9.4 "x3dh") round-trips through our codec', () => {
    const agtKm = agtKeyManager();
    const keys = ourPeer();
    const [agt, establishment] = SecureChannel.createSender(agtKm, keys.publicBundle(3), enc(`${AGT}|${OURS}`));
    const wire = JSON.parse(JSON.stringify(encodeMessageFrame({ from: AGT, to: OURS, id: 'm', ts: 't' }, agt.send(enc('first')), establishment))) as unknown;
    const frame = value(decodeMessageFrame(wire));
    const session = value(MeshSession.accept(keys, frame.x3dh!, AGT, OURS, { suite: 'chacha20poly1305' }));
    expect(dec(value(session.receive(frame.message)))).toBe('first');
  });

  it('a bundle whose signed prekey signature was made by another key is refused before any DH (both SDKs agree)', () => {
    const victim = agtKeyManager();
    const other = agtKeyManager();
    const forged = { ...victim.getPublicBundle(), signedPreKey: other.getPublicBundle().signedPreKey, signedPreKeySignature: other.getPublicBundle().signedPreKeySignature };
    expect(MeshSession.initiate(ourPeer(), forged, OURS, AGT, { suite: 'chacha20poly1305' })).toMatchObject({ ok: false, code: 'MESH_PREKEY_SIGNATURE_INVALID' });
    expect(() => SecureChannel.createSender(agtKeyManager(), forged)).toThrow(/signature/i);
  });
});

describe('ours with ours on xsalsa20poly1305 (the default suite)', () => {
  it('signed KNOCK with the establishment, verified against the sender key; messages both ways; state survives JSON', () => {
    const alice = ourPeer();
    const bob = ourPeer();
    const { session: a, establishment } = value(MeshSession.initiate(alice, bob.publicBundle(0), 'did:a', 'did:b'));
    expect(a.suite).toBe('xsalsa20poly1305');
    const knock = JSON.parse(JSON.stringify(value(buildSignedKnock(alice, { from: 'did:a', to: 'did:b', id: 'k', ts: new Date().toISOString(), intent: { action: 'delegate_task' } }, establishment, a.suite)))) as unknown;
    const verified = value(verifyKnockFrame(knock, alice.identityKeyEd, { nowMs: Date.now() }));
    const est = value(decodeEstablishment(verified.establishment));
    expect(est.suite).toBe('xsalsa20poly1305');
    let b = value(MeshSession.accept(bob, est.establishment, 'did:a', 'did:b', { suite: est.suite }));
    const m1 = value(a.send(enc('hello')));
    const wire = JSON.parse(JSON.stringify(encodeMessageFrame({ from: 'did:a', to: 'did:b', id: '1', ts: 't' }, m1))) as unknown;
    expect(dec(value(b.receive(value(decodeMessageFrame(wire)).message)))).toBe('hello');
    b = value(MeshSession.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))));
    expect(dec(value(a.receive(value(b.send(enc('hi back'))))))).toBe('hi back');
  });

  it('a session of one suite cannot read the other suite (distinct KDF labels and AEADs)', () => {
    const alice = ourPeer();
    const bob = ourPeer();
    const { session: a, establishment } = value(MeshSession.initiate(alice, bob.publicBundle(), 'did:a', 'did:b', { suite: 'xsalsa20poly1305' }));
    const b = value(MeshSession.accept(bob, establishment, 'did:a', 'did:b', { suite: 'chacha20poly1305' }));
    expect(b.receive(value(a.send(enc('x'))))).toMatchObject({ ok: false, code: 'MESH_DECRYPT_FAILED' });
  });
});
