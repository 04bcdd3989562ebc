// T4-T "Tampered ciphertext" — mitigation: the Double Ratchet's AEAD (XSalsa20-Poly1305 default, ChaCha20-Poly1305 on the AGT suite).
// Defends: aead-tag, Double Ratchet AEAD (XSalsa20-Poly1305; ChaCha20-Poly1305 on the AGT suite)
// A relay or router alters ciphertext or header bytes in transit so that the agent acts on the altered message.
// ON, the Poly1305 tag check refuses it and the session state is unchanged; OFF (`_disable: ['aead-tag']`, a test-only
// session option no configuration reaches) the same tampering is accepted and the plaintext is what the attacker chose.
import { describe, expect, it } from 'vitest';
import type { Result } from '../../core/errors';
import { MESH_SUITE_NAMES } from '../../core/mesh/mesh-suites';
import type { RatchetMessage } from '../../core/mesh/ratchet';
import { MeshSession } from '../../sandbox-node/mesh/mesh-session';
import { ourPeer } from '../sandbox-node/mesh/mesh-peers';

const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
};
const ORIGINAL = '{"pay":"alice","amount":100}';
const WANTED = '{"pay":"mallo","amount":900}';

/** Stream ciphers are malleable: XOR the known plaintext difference into the ciphertext body (the tag is left as is). */
function forge(m: RatchetMessage, suite: string): RatchetMessage {
  const ct = Uint8Array.from(m.ciphertext);
  // Body offset: xsalsa20poly1305 = nonce(24) ‖ tag(16) ‖ body; chacha20poly1305 = nonce(12) ‖ body ‖ tag(16).
  const bodyAt = suite === 'xsalsa20poly1305' ? 40 : 12;
  const a = new TextEncoder().encode(ORIGINAL);
  const b = new TextEncoder().encode(WANTED);
  for (let i = 0; i < a.length; i += 1) ct[bodyAt + i]! ^= a[i]! ^ b[i]!;
  return { header: m.header, ciphertext: ct };
}

describe.each(MESH_SUITE_NAMES)('T4-T tampered ciphertext (%s)', (suite) => {
  it('ON: a relay-forged ciphertext is refused and the session still reads the genuine message; OFF (aead-tag): the forgery is accepted', () => {
    for (const disable of [[], ['aead-tag']] as const) {
      const alice = ourPeer();
      const bob = ourPeer();
      const { session: a, establishment } = value(MeshSession.initiate(alice, bob.publicBundle(0), 'did:a', 'did:b', { suite }));
      const b = value(MeshSession.accept(bob, establishment, 'did:a', 'did:b', { suite, _disable: disable }));
      const genuine = value(a.send(new TextEncoder().encode(ORIGINAL)));
      const out = b.receive(forge(genuine, suite));
      if (disable.length === 0) {
        expect(out).toMatchObject({ ok: false, code: 'MESH_DECRYPT_FAILED' });
        expect(new TextDecoder().decode(value(b.receive(genuine)))).toBe(ORIGINAL);
      } else {
        expect(out.ok).toBe(true);
        expect(new TextDecoder().decode(value(out))).toBe(WANTED);
      }
    }
  });

  it('ON: a header rewritten in transit (message number) is refused; OFF (aead-tag) the decryption is garbage but accepted', () => {
    for (const disable of [[], ['aead-tag']] as const) {
      const alice = ourPeer();
      const bob = ourPeer();
      const { session: a, establishment } = value(MeshSession.initiate(alice, bob.publicBundle(0), 'did:a', 'did:b', { suite }));
      const b = value(MeshSession.accept(bob, establishment, 'did:a', 'did:b', { suite, _disable: disable }));
      const m0 = value(a.send(new TextEncoder().encode(ORIGINAL)));
      const out = b.receive({ header: { ...m0.header, messageNumber: 1 }, ciphertext: m0.ciphertext });
      if (disable.length === 0) {
        expect(out).toMatchObject({ ok: false, code: 'MESH_DECRYPT_FAILED' });
      } else {
        expect(out.ok).toBe(true);
        expect(new TextDecoder().decode(value(out))).not.toBe(ORIGINAL);
      }
    }
  });

  it('ON: a previous-chain length rewritten in transit (same message key, only the bound header differs) is refused; OFF (aead-tag) it is accepted', () => {
    for (const disable of [[], ['aead-tag']] as const) {
      const alice = ourPeer();
      const bob = ourPeer();
      const { session: a, establishment } = value(MeshSession.initiate(alice, bob.publicBundle(0), 'did:a', 'did:b', { suite }));
      const b = value(MeshSession.accept(bob, establishment, 'did:a', 'did:b', { suite, _disable: disable }));
      const m0 = value(a.send(new TextEncoder().encode(ORIGINAL)));
      const out = b.receive({ header: { ...m0.header, previousChainLength: 7 }, ciphertext: m0.ciphertext });
      if (disable.length === 0) expect(out).toMatchObject({ ok: false, code: 'MESH_DECRYPT_FAILED' });
      // OFF the message is accepted: as sent on the AGT suite (AAD unchecked), as garbage on ours (the AAD keys it).
      else expect(out.ok).toBe(true);
    }
  });
});
