// T4-S: KNOCK-family frames signed with the identity key over domain-separated canonical bytes: every single-bit flip
// of the signature or of a signed field is refused; another key, another frame type, a stale ts, or an establishment
// whose X25519 identity is not the signer's are refused.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToBase64 } from '../../../core/crypto/strict-encoding';
import { ed25519PublicKey, ed25519SeedToX25519, generateX25519KeyPair } from '../../../core/mesh/curve-keys';
import { knockSigningBytes, signKnockFrame, verifyKnockFrame } from '../../../core/mesh/knock-signature';

const seed = new Uint8Array(randomBytes(32));
const pub = ed25519PublicKey(seed);
const NOW = Date.parse('2026-12-08T01:00:00Z');
const knock = {
  v: 1, type: 'knock', from: 'did:mesh:a', to: 'did:mesh:b', id: 'k-1', ts: '2026-12-08T01:00:00Z',
  intent: { action: 'delegate_task', capabilities_required: ['payments:write'], trust_minimum: 700 },
  establishment: { ik: bytesToBase64(ed25519SeedToX25519(seed).publicKey), ek: bytesToBase64(generateX25519KeyPair().publicKey), otk: 3 },
};
const signed = (frame: Record<string, unknown>): Record<string, unknown> => {
  const r = signKnockFrame(seed, frame);
  if (!r.ok) throw new Error(r.code);
  return r.value;
};

describe('KNOCK signatures', () => {
  it('verifies a signed knock, knock_accept and knock_reject, also after a JSON round trip and with extra unsigned fields', () => {
    const frames = [
      knock,
      { v: 1, type: 'knock_accept', from: 'did:mesh:b', to: 'did:mesh:a', id: 'a-1', ts: knock.ts, knock_id: 'k-1', conditions: { max_messages: 100 } },
      { v: 1, type: 'knock_reject', from: 'did:mesh:b', to: 'did:mesh:a', id: 'r-1', ts: knock.ts, knock_id: 'k-1', reason: 'insufficient_trust' },
    ];
    for (const f of frames) {
      const s = JSON.parse(JSON.stringify(signed(f))) as Record<string, unknown>;
      expect(verifyKnockFrame(s, pub, { nowMs: NOW }), String(f.type)).toMatchObject({ ok: true });
      expect(verifyKnockFrame({ ...s, router_signature: 'added-by-a-router' }, pub).ok).toBe(true);
    }
  });

  it('refuses every single-bit flip of the signature', () => {
    const s = signed(knock);
    const sig = Buffer.from(s.signature as string, 'base64url');
    for (let bit = 0; bit < 512; bit += 1) {
      const flipped = Buffer.from(sig);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(verifyKnockFrame({ ...s, signature: flipped.toString('base64url') }, pub), `bit ${bit}`).toMatchObject({ ok: false, code: 'MESH_KNOCK_SIGNATURE_INVALID' });
    }
  });

  it('refuses every single-bit flip of the signed bytes (each character of every signed field)', () => {
    const s = signed(knock);
    const text = JSON.stringify(s);
    const sigStart = text.indexOf('"signature"');
    let tried = 0;
    for (let i = 0; i < text.length; i += 1) {
      if (i >= sigStart && i < sigStart + 100) continue;
      for (let bit = 0; bit < 7; bit += 1) {
        const ch = String.fromCharCode(text.charCodeAt(i) ^ (1 << bit));
        let parsed: unknown;
        try {
          parsed = JSON.parse(text.slice(0, i) + ch + text.slice(i + 1));
        } catch {
          continue;
        }
        tried += 1;
        expect(verifyKnockFrame(parsed, pub).ok, `char ${i} bit ${bit}`).toBe(false);
      }
    }
    expect(tried).toBeGreaterThan(500);
  });

  it('refuses another signer, a relabelled frame type, a missing or malformed signature, and non-canonical values', () => {
    const s = signed(knock);
    expect(verifyKnockFrame(s, ed25519PublicKey(new Uint8Array(randomBytes(32)))).ok).toBe(false);
    expect(verifyKnockFrame({ ...s, type: 'knock_accept' }, pub).ok).toBe(false);
    const { signature: _drop, ...unsigned } = s;
    expect(verifyKnockFrame(unsigned, pub)).toMatchObject({ ok: false, code: 'MESH_KNOCK_SIGNATURE_INVALID' });
    expect(verifyKnockFrame({ ...s, signature: `${String(s.signature)}=` }, pub).ok).toBe(false);
    expect(knockSigningBytes({ ...knock, intent: { trust_minimum: 0.5 } })).toMatchObject({ ok: false, code: 'MESH_FRAME_INVALID' });
  });

  it('refuses a ts outside ±300 s when a clock is given', () => {
    const s = signed(knock);
    expect(verifyKnockFrame(s, pub, { nowMs: NOW + 299_000 }).ok).toBe(true);
    expect(verifyKnockFrame(s, pub, { nowMs: NOW + 301_000 })).toMatchObject({ ok: false, code: 'MESH_KNOCK_STALE' });
    expect(verifyKnockFrame(s, pub, { nowMs: NOW - 301_000 })).toMatchObject({ ok: false, code: 'MESH_KNOCK_STALE' });
  });

  it("refuses a validly signed knock whose establishment carries someone else's X25519 identity", () => {
    const s = signed({ ...knock, establishment: { ...knock.establishment, ik: bytesToBase64(generateX25519KeyPair().publicKey) } });
    expect(verifyKnockFrame(s, pub)).toMatchObject({ ok: false, code: 'MESH_KNOCK_SIGNATURE_INVALID' });
  });

  it('separates domains: the signed bytes start with the kars label, so an AGT-style signature over the bare intent fails', () => {
    const bytes = knockSigningBytes(knock);
    expect(bytes.ok && new TextDecoder().decode(bytes.value).startsWith('kars-mesh/knock-signature/v1\n{')).toBe(true);
  });
});
