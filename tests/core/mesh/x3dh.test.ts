// T4-S: identity key conversion equals the AGT SDK's; bundles are checked before any DH (every single-bit flip of the
// signed-prekey signature refused, as libsignal's test_bad_signed_pre_key_signature does); both sides derive one SK.
import { randomBytes } from 'node:crypto';
import { ed25519ToX25519, X3DHKeyManager } from '@microsoft/agent-governance-sdk';
import { describe, expect, it } from 'vitest';
import { ed25519PublicKey, ed25519PublicToX25519, ed25519Sign, ed25519SeedToX25519, generateX25519KeyPair, x25519 } from '../../../core/mesh/curve-keys';
import { MESH_SUITE_NAMES } from '../../../core/mesh/mesh-suites';
import { verifyPrekeyBundle, x3dhInitiate, x3dhRespond } from '../../../core/mesh/x3dh';

function agtBundle(): { km: X3DHKeyManager; bundle: ReturnType<X3DHKeyManager['getPublicBundle']> } {
  const seed = new Uint8Array(randomBytes(32));
  const km = new X3DHKeyManager(seed, ed25519PublicKey(seed));
  km.generateSignedPreKey();
  km.generateOneTimePreKeys(2);
  return { km, bundle: km.getPublicBundle(1) };
}

describe('identity key conversion', () => {
  it('matches the AGT SDK (private and public), and the Ed25519 public key maps to the same X25519 public key', () => {
    for (let i = 0; i < 20; i += 1) {
      const seed = new Uint8Array(randomBytes(32));
      const edPub = ed25519PublicKey(seed);
      const ours = ed25519SeedToX25519(seed);
      const agt = ed25519ToX25519(seed, edPub);
      expect(Buffer.from(ours.privateKey).toString('hex')).toBe(Buffer.from(agt.privateKey).toString('hex'));
      expect(Buffer.from(ours.publicKey).toString('hex')).toBe(Buffer.from(agt.publicKey).toString('hex'));
      expect(Buffer.from(ed25519PublicToX25519(edPub)!).toString('hex')).toBe(Buffer.from(agt.publicKey).toString('hex'));
    }
  });

  it('x25519 agrees both ways and refuses a small-order peer key (all-zero output)', () => {
    const a = generateX25519KeyPair();
    const b = generateX25519KeyPair();
    expect(x25519(a.privateKey, b.publicKey)).toEqual(x25519(b.privateKey, a.publicKey));
    expect(() => x25519(a.privateKey, new Uint8Array(32))).toThrow();
    expect(() => x25519(a.privateKey, new Uint8Array(31))).toThrow(RangeError);
  });

  it('never answers from a cached key after the array was rewritten in place', () => {
    const a = generateX25519KeyPair();
    const b = generateX25519KeyPair();
    const c = generateX25519KeyPair();
    const priv = Uint8Array.from(a.privateKey);
    const pub = Uint8Array.from(b.publicKey);
    expect(x25519(priv, pub)).toEqual(x25519(b.privateKey, a.publicKey));
    pub.set(c.publicKey);
    expect(x25519(priv, pub)).toEqual(x25519(c.privateKey, a.publicKey));
    priv.set(c.privateKey);
    expect(x25519(priv, pub)).toEqual(x25519(c.privateKey, c.publicKey));
  });
});

describe('prekey bundle checks', () => {
  it('accepts an AGT bundle, refuses every single-bit flip of its signed-prekey signature and of its signed prekey', () => {
    const { bundle } = agtBundle();
    expect(verifyPrekeyBundle(bundle).ok).toBe(true);
    for (const field of ['signedPreKeySignature', 'signedPreKey', 'identityKeyEd', 'identityKey'] as const) {
      for (let bit = 0; bit < bundle[field].length * 8; bit += 1) {
        const flipped = Uint8Array.from(bundle[field]);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect(verifyPrekeyBundle({ ...bundle, [field]: flipped }).ok, `${field} bit ${bit}`).toBe(false);
      }
    }
    expect(verifyPrekeyBundle(bundle).ok).toBe(true);
  });

  it('refuses malformed bundles by shape before any signature work', () => {
    const { bundle } = agtBundle();
    for (const bad of [null, {}, { ...bundle, signedPreKey: new Uint8Array(31) }, { ...bundle, signedPreKeySignature: new Uint8Array(63) }, { ...bundle, signedPreKeyId: -1 }, { ...bundle, oneTimePreKeyId: 1.5 }, { ...bundle, identityKey: 'AAAA' }]) {
      expect(verifyPrekeyBundle(bad)).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
    }
  });
});

describe.each(MESH_SUITE_NAMES)('X3DH (%s)', (suite) => {
  it('initiator and responder derive the same secret and AD, with and without a one-time prekey', () => {
    const bobSeed = new Uint8Array(randomBytes(32));
    const bobId = ed25519SeedToX25519(bobSeed);
    const spk = generateX25519KeyPair();
    const otk = generateX25519KeyPair();
    const bundle = {
      identityKey: bobId.publicKey, identityKeyEd: ed25519PublicKey(bobSeed), signedPreKey: spk.publicKey,
      signedPreKeySignature: ed25519Sign(bobSeed, spk.publicKey), signedPreKeyId: 0,
    };
    const alice = ed25519SeedToX25519(new Uint8Array(randomBytes(32)));
    for (const withOtk of [false, true]) {
      const b = withOtk ? { ...bundle, oneTimePreKey: otk.publicKey, oneTimePreKeyId: 7 } : bundle;
      const init = x3dhInitiate(suite, alice, b);
      if (!init.ok) throw new Error(init.code);
      const resp = x3dhRespond(suite, bobId, spk, withOtk ? otk : undefined, init.value.establishment);
      if (!resp.ok) throw new Error(resp.code);
      expect(resp.value.sharedSecret).toEqual(init.value.sharedSecret);
      expect(resp.value.associatedData).toEqual(init.value.associatedData);
      expect(init.value.establishment.usedOneTimeKeyId).toBe(withOtk ? 7 : undefined);
      const wrongOtk = x3dhRespond(suite, bobId, spk, withOtk ? undefined : otk, init.value.establishment);
      expect(wrongOtk.ok && Buffer.compare(wrongOtk.value.sharedSecret, init.value.sharedSecret) === 0).toBe(false);
    }
  });
});
