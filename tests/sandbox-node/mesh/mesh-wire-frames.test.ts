// T4-T/T4-I: our frame codec refuses plaintext frames, non-canonical base64, wrong key lengths, out-of-range counters
// and oversized ciphertexts before any crypto runs.
import { describe, expect, it } from 'vitest';
import { generateX25519KeyPair } from '../../../core/mesh/curve-keys';
import { decodeEstablishment, decodeMessageFrame, encodeMessageFrame } from '../../../sandbox-node/mesh/mesh-wire-frames';

const dh = generateX25519KeyPair().publicKey;
const good = encodeMessageFrame({ from: 'did:a', to: 'did:b', id: 'm', ts: 't' }, { header: { dhPublicKey: dh, previousChainLength: 0, messageNumber: 3 }, ciphertext: new Uint8Array(60) });

describe('message frames', () => {
  it('decodes what it encodes', () => {
    const r = decodeMessageFrame(JSON.parse(JSON.stringify(good)));
    expect(r.ok && r.value.message.header.messageNumber).toBe(3);
    expect(r.ok && r.value.message.header.dhPublicKey).toEqual(dh);
  });

  it.each([
    ['plaintext: true', { ...good, plaintext: true }],
    ['wrong type', { ...good, type: 'knock' }],
    ['wrong version', { ...good, v: 2 }],
    ['missing from', { ...good, from: '' }],
    ['short dh', { ...good, header: { dh: Buffer.alloc(31).toString('base64'), pn: 0, n: 0 } }],
    ['base64url dh', { ...good, header: { dh: Buffer.alloc(32, 0xfb).toString('base64url'), pn: 0, n: 0 } }],
    ['n above u32', { ...good, header: { ...(good.header as object), n: 2 ** 32 } }],
    ['pn negative', { ...good, header: { ...(good.header as object), pn: -1 } }],
    ['no header', { ...good, header: undefined }],
    ['ciphertext with whitespace', { ...good, ciphertext: `${String(good.ciphertext)} ` }],
    ['bad x3dh', { ...good, x3dh: { identity_key: 'AAAA', ephemeral_key: 'AAAA' } }],
  ])('refuses %s', (_name, frame) => {
    expect(decodeMessageFrame(frame)).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
  });

  it('refuses a ciphertext above the cap without decoding it', () => {
    const big = { ...good, ciphertext: Buffer.alloc(4096).toString('base64') };
    expect(decodeMessageFrame(big, 1024)).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
    expect(decodeMessageFrame(big, 4096).ok).toBe(true);
  });
});

describe('establishment', () => {
  const ik = Buffer.from(generateX25519KeyPair().publicKey).toString('base64');
  const ek = Buffer.from(generateX25519KeyPair().publicKey).toString('base64');
  it('defaults to the AGT suite and reads ours; refuses unknown suites and bad one-time key ids', () => {
    expect(decodeEstablishment({ ik, ek, otk: 4 })).toMatchObject({ ok: true, value: { suite: 'chacha20poly1305', establishment: { usedOneTimeKeyId: 4 } } });
    expect(decodeEstablishment({ ik, ek, suite: 'xsalsa20poly1305' })).toMatchObject({ ok: true, value: { suite: 'xsalsa20poly1305' } });
    expect(decodeEstablishment({ ik, ek, suite: 'none' })).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
    expect(decodeEstablishment({ ik, ek, otk: 1.5 })).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
    expect(decodeEstablishment({ ik, ek: ik.slice(4) })).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
  });
});
