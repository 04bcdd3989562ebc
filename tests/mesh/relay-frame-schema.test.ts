// The relay store's frame schema (T4-T/T4-D: a router stores nothing but the wire's fields, each bounded): the frames
// the AGT 4.x MeshClient and our mesh client send pass; an extra field, a missing or mis-sized field, the wrong
// base64 alphabet, a non-ISO timestamp, an oversized intent are 400 INPUT_INVALID, and nothing is stored.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signKnockFrame } from '../../core/mesh/knock-signature';
import { encodeMessageFrame } from '../../sandbox-node/mesh/mesh-wire-frames';
import { newAgent, registerBody } from './agt-sdk';
import { createMeshFixture } from './mesh-fixture';

const b64 = (n: number): string => randomBytes(n).toString('base64');

async function setup() {
  const f = createMeshFixture();
  const alice = newAgent('alice');
  const bob = newAgent('bob');
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice) });
  await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(bob) });
  const base = () => ({ v: 1, from: alice.did, to: bob.did, id: randomUUID(), ts: new Date().toISOString() });
  const post = (body: unknown) => f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body });
  return { f, alice, bob, base, post };
}

describe('relay frame schema', () => {
  it('accepts the frames the AGT MeshClient and our client send', async () => {
    const { f, bob, base, post } = await setup();
    const agtMessage = { ...base(), type: 'message', header: { dh: b64(32), pn: 0, n: 3 }, ciphertext: b64(300) };
    const agtKnock = { ...base(), type: 'knock', intent: { action: 'establish_session' }, establishment: { ik: b64(32), ek: b64(32), otk: 7 } };
    const agtAccept = { ...base(), type: 'knock_accept', knock_id: randomUUID() };
    const agtReject = { ...base(), type: 'knock_reject', knock_id: randomUUID(), reason: 'policy_denied' };
    const ours = encodeMessageFrame(
      { from: base().from, to: bob.did, id: randomUUID(), ts: new Date().toISOString() },
      { header: { dhPublicKey: randomBytes(32), previousChainLength: 1, messageNumber: 0 }, ciphertext: randomBytes(64) },
      { initiatorIdentityKey: randomBytes(32), ephemeralPublicKey: randomBytes(32), usedOneTimeKeyId: 2 },
    );
    const signed = signKnockFrame(randomBytes(32), { ...base(), type: 'knock', intent: { action: 'establish_session' }, establishment: { ik: b64(32), ek: b64(32), suite: 'xsalsa20poly1305' } });
    if (!signed.ok) throw new Error(signed.message);
    const countersigned = { ...signed.value, id: randomUUID(), countersignature: { sandbox: 'sb-a', ts: new Date().toISOString(), sig: 'x'.repeat(86) } };
    for (const [name, frame] of Object.entries({ agtMessage, agtKnock, agtAccept, agtReject, ours, signed: signed.value, countersigned })) {
      const r = await post(frame);
      expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(202);
    }
    expect((await f.inbox.query(bob.did, {})).items).toHaveLength(7);
  });

  it('refuses anything else with 400 INPUT_INVALID and stores nothing', async () => {
    const { f, bob, base, post } = await setup();
    const message = () => ({ ...base(), type: 'message', header: { dh: b64(32), pn: 0, n: 0 }, ciphertext: b64(48) });
    const knock = () => ({ ...base(), type: 'knock', intent: { action: 'establish_session' } });
    const without = (o: Record<string, unknown>, k: string) => { const { [k]: _drop, ...rest } = o; return rest; };
    const bad: Record<string, unknown> = {
      'extra top-level field': { ...message(), note: 'smuggled' },
      'extra header field': { ...message(), header: { dh: b64(32), pn: 0, n: 0, x: 1 } },
      'header missing': without(message(), 'header'),
      'ciphertext missing': without(message(), 'ciphertext'),
      'dh of 31 bytes': { ...message(), header: { dh: b64(31), pn: 0, n: 0 } },
      'dh in base64url': { ...message(), header: { dh: randomBytes(32).toString('base64url'), pn: 0, n: 0 } },
      'negative n': { ...message(), header: { dh: b64(32), pn: 0, n: -1 } },
      'ciphertext not base64': { ...message(), ciphertext: 'not base64!' },
      'ciphertext unpadded': { ...message(), ciphertext: 'QUJD' + 'QQ' },
      'ts not ISO': { ...message(), ts: 'yesterday' },
      'ts missing': without(message(), 'ts'),
      'id with a slash': { ...message(), id: 'a/b' },
      'id of 129 chars': { ...message(), id: 'a'.repeat(129) },
      'version 2': { ...message(), v: 2 },
      'unknown type': { ...message(), type: 'connect' },
      'knock without intent': without(knock(), 'intent'),
      'intent over 4 KiB': { ...knock(), intent: { blob: 'x'.repeat(5000) } },
      'establishment ik of 16 bytes': { ...knock(), establishment: { ik: b64(16), ek: b64(32) } },
      'establishment extra field': { ...knock(), establishment: { ik: b64(32), ek: b64(32), extra: 1 } },
      'unknown suite': { ...knock(), establishment: { ik: b64(32), ek: b64(32), suite: 'rot13' } },
      'signature of 63 bytes': { ...knock(), signature: randomBytes(63).toString('base64url') },
      'knock_accept without knock_id': { ...base(), type: 'knock_accept' },
      'knock_reject reason of 300 chars': { ...base(), type: 'knock_reject', knock_id: randomUUID(), reason: 'r'.repeat(300) },
      'header on a knock': { ...knock(), header: { dh: b64(32), pn: 0, n: 0 } },
      'plaintext message with a header': { ...message(), plaintext: true },
    };
    for (const [name, frame] of Object.entries(bad)) {
      const r = await post(frame);
      expect(r, name).toMatchObject({ status: 400, body: { code: 'INPUT_INVALID' } });
    }
    expect((await f.inbox.query(bob.did, {})).items).toHaveLength(0);
    // The legacy plaintext frame still reaches the relay core, which refuses it with its own code (T4-I).
    const plaintext = { ...base(), type: 'message', ciphertext: Buffer.from('{"hi":1}').toString('base64'), plaintext: true };
    expect(await post(plaintext)).toMatchObject({ status: 400, body: { code: 'MESH_PLAINTEXT_REFUSED' } });
  });
});
