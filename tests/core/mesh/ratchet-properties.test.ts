// T4-T: Double Ratchet properties on both suites (tests/support/property.ts: fixed seed, replayable failures): any delivery order,
// with duplicates and drops, decrypts each delivered message once; duplicates are refused and leave the state as it
// was; every single-bit flip of ciphertext or header is refused and leaves the state as it was.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertProperty } from '../../support/property';
import { MESH_SUITE_NAMES } from '../../../core/mesh/mesh-suites';
import { ratchetDecrypt, ratchetEncrypt, type RatchetMessage, type RatchetState } from '../../../core/mesh/ratchet';
import { AD, ratchetPair, snapshot } from './ratchet-pair';

type Side = 'a' | 'b';
type Op = { kind: 'send'; from: Side; size: number } | { kind: 'deliver'; to: Side; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom<Side>('a', 'b'), size: fc.integer({ min: 0, max: 64 }) }),
  fc.record({ kind: fc.constant('deliver' as const), to: fc.constantFrom<Side>('a', 'b'), pick: fc.nat() }),
);

interface InFlight {
  message: RatchetMessage;
  plaintext: Uint8Array;
  delivered: boolean;
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

describe.each(MESH_SUITE_NAMES)('Double Ratchet properties (%s)', (suite) => {
  it('out-of-order, duplicated and dropped messages: each first delivery decrypts, each repeat is refused with no state change', () => {
    assertProperty(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) => {
        const states: Record<Side, RatchetState> = ratchetPair(suite);
        const toSide: Record<Side, InFlight[]> = { a: [], b: [] };
        let counter = 0;
        for (const op of ops) {
          if (op.kind === 'send') {
            const to: Side = op.from === 'a' ? 'b' : 'a';
            const plaintext = new Uint8Array(op.size).fill(counter++ & 0xff);
            const r = ratchetEncrypt(states[op.from], plaintext, AD);
            if (!r.ok) {
              // Only the responder, before its first receipt, has no sending chain.
              expect(op.from === 'b' && r.code === 'MESH_SESSION_NOT_READY').toBe(true);
              continue;
            }
            toSide[to].push({ message: r.value, plaintext, delivered: false });
            continue;
          }
          const pool = toSide[op.to];
          if (pool.length === 0) continue;
          const item = pool[op.pick % pool.length]!;
          const before = snapshot(states[op.to]);
          const r = ratchetDecrypt(states[op.to], item.message, AD);
          if (item.delivered) {
            expect(r.ok).toBe(false);
            expect(snapshot(states[op.to])).toBe(before);
          } else {
            expect(r).toEqual({ ok: true, value: item.plaintext });
            item.delivered = true;
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every single-bit flip of the ciphertext or the header is refused and leaves the state unchanged; the original then decrypts', () => {
    const { a, b } = ratchetPair(suite);
    // Put B mid-conversation with skipped keys held, so a flip could also hit the skipped-key path.
    const first = [0, 1, 2].map(() => ratchetEncrypt(a, new TextEncoder().encode('warm-up'), AD));
    expect(ratchetDecrypt(b, first[2]!.ok ? first[2]!.value : (undefined as never), AD).ok).toBe(true);
    const m = ratchetEncrypt(a, new TextEncoder().encode('transfer 100 to alice'), AD);
    if (!m.ok) throw new Error(m.code);
    const { header, ciphertext } = m.value;
    const before = snapshot(b);
    for (let bit = 0; bit < ciphertext.length * 8; bit += 1) {
      expect(ratchetDecrypt(b, { header, ciphertext: flipBit(ciphertext, bit) }, AD).ok, `ciphertext bit ${bit}`).toBe(false);
    }
    for (let bit = 0; bit < 256; bit += 1) {
      expect(ratchetDecrypt(b, { header: { ...header, dhPublicKey: flipBit(header.dhPublicKey, bit) }, ciphertext }, AD).ok, `dh bit ${bit}`).toBe(false);
    }
    for (let bit = 0; bit < 32; bit += 1) {
      expect(ratchetDecrypt(b, { header: { ...header, previousChainLength: (header.previousChainLength ^ (1 << bit)) >>> 0 }, ciphertext }, AD).ok, `pn bit ${bit}`).toBe(false);
      expect(ratchetDecrypt(b, { header: { ...header, messageNumber: (header.messageNumber ^ (1 << bit)) >>> 0 }, ciphertext }, AD).ok, `n bit ${bit}`).toBe(false);
    }
    for (let bit = 0; bit < AD.length * 8; bit += 1) {
      expect(ratchetDecrypt(b, { header, ciphertext }, flipBit(AD, bit)).ok, `ad bit ${bit}`).toBe(false);
    }
    expect(snapshot(b)).toBe(before);
    expect(ratchetDecrypt(b, { header, ciphertext }, AD)).toMatchObject({ ok: true });
    // The skipped keys (0 and 1) survived every attempt.
    expect(ratchetDecrypt(b, first[0]!.ok ? first[0]!.value : (undefined as never), AD)).toMatchObject({ ok: true });
  });

  it('random bit flips anywhere in random messages are refused with no state change (property)', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(), (plaintext, where) => {
        const { a, b } = ratchetPair(suite);
        const m = ratchetEncrypt(a, plaintext, AD);
        if (!m.ok) throw new Error(m.code);
        const { header, ciphertext } = m.value;
        const totalBits = ciphertext.length * 8 + 320;
        const bit = where % totalBits;
        const before = snapshot(b);
        let tampered: RatchetMessage;
        if (bit < ciphertext.length * 8) tampered = { header, ciphertext: flipBit(ciphertext, bit) };
        else {
          const hb = bit - ciphertext.length * 8;
          if (hb < 256) tampered = { header: { ...header, dhPublicKey: flipBit(header.dhPublicKey, hb) }, ciphertext };
          else if (hb < 288) tampered = { header: { ...header, previousChainLength: (header.previousChainLength ^ (1 << (hb - 256))) >>> 0 }, ciphertext };
          else tampered = { header: { ...header, messageNumber: (header.messageNumber ^ (1 << (hb - 288))) >>> 0 }, ciphertext };
        }
        expect(ratchetDecrypt(b, tampered, AD).ok).toBe(false);
        expect(snapshot(b)).toBe(before);
        expect(ratchetDecrypt(b, m.value, AD)).toEqual({ ok: true, value: plaintext });
      }),
      { numRuns: 80 },
    );
  });

  it('replays are refused: the same message twice, within a chain and after a DH ratchet step', () => {
    const { a, b } = ratchetPair(suite);
    const enc = (s: RatchetState, t: string): RatchetMessage => {
      const r = ratchetEncrypt(s, new TextEncoder().encode(t), AD);
      if (!r.ok) throw new Error(r.code);
      return r.value;
    };
    const m0 = enc(a, 'a0');
    expect(ratchetDecrypt(b, m0, AD).ok).toBe(true);
    expect(ratchetDecrypt(b, m0, AD)).toMatchObject({ ok: false, code: 'MESH_MESSAGE_DUPLICATE' });
    expect(ratchetDecrypt(a, enc(b, 'b0'), AD).ok).toBe(true);
    expect(ratchetDecrypt(b, enc(a, 'a1'), AD).ok).toBe(true);
    const before = snapshot(b);
    // m0 belongs to a chain B has moved past: refused, and B is unchanged.
    expect(ratchetDecrypt(b, m0, AD).ok).toBe(false);
    expect(snapshot(b)).toBe(before);
  });
});
