// T4-T: ratchet state survives a JSON round trip mid-conversation (skipped keys, both chains) and a restored state
// decrypts what the original would have; malformed stored states are refused, never repaired.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertProperty } from '../../support/property';
import { MESH_SUITE_NAMES } from '../../../core/mesh/mesh-suites';
import { MAX_SKIPPED_TOTAL, ratchetDecrypt, ratchetEncrypt, type RatchetMessage, type RatchetState } from '../../../core/mesh/ratchet';
import { ratchetStateFromJson, ratchetStateToJson } from '../../../core/mesh/ratchet-state-json';
import { AD, ratchetPair, snapshot } from './ratchet-pair';

const roundTrip = (s: RatchetState): RatchetState => {
  const r = ratchetStateFromJson(JSON.parse(JSON.stringify(ratchetStateToJson(s))));
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const enc = (s: RatchetState, i: number): RatchetMessage => {
  const r = ratchetEncrypt(s, new Uint8Array([i & 0xff]), AD);
  if (!r.ok) throw new Error(r.code);
  return r.value;
};

describe.each(MESH_SUITE_NAMES)('ratchet state JSON (%s)', (suite) => {
  it('round-trips at any point of a conversation and the restored state decrypts the held-back messages', () => {
    assertProperty(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }), (burst) => {
        let { a, b } = ratchetPair(suite);
        const held: Array<[RatchetMessage, number]> = [];
        let i = 0;
        for (const n of burst) {
          const chain = Array.from({ length: n }, () => [enc(a, i), i++] as [RatchetMessage, number]);
          // Deliver the last one now, hold back the others (they become skipped keys).
          expect(ratchetDecrypt(b, chain.at(-1)![0], AD).ok).toBe(true);
          held.push(...chain.slice(0, -1));
          b = roundTrip(b);
          expect(snapshot(b)).toBe(snapshot(roundTrip(b)));
          const back = ratchetEncrypt(b, new Uint8Array([0]), AD);
          if (!back.ok) throw new Error(back.code);
          expect(ratchetDecrypt(a, back.value, AD).ok).toBe(true);
          a = roundTrip(a);
        }
        for (const [m, n] of held) expect(ratchetDecrypt(b, m, AD)).toEqual({ ok: true, value: new Uint8Array([n & 0xff]) });
      }),
      { numRuns: 25 },
    );
  });
});

describe('ratchet state JSON: refusals', () => {
  const { a } = ratchetPair('xsalsa20poly1305');
  const good = ratchetStateToJson(a);
  it.each([
    ['v', { ...good, v: 2 }],
    ['suite', { ...good, suite: 'aes-gcm' }],
    ['root_key', { ...good, root_key: good.root_key.slice(2) }],
    ['dh_self_private', { ...good, dh_self_private: 'zz'.repeat(32) }],
    ['n_send', { ...good, n_send: -1 }],
    ['pn', { ...good, pn: 2 ** 32 }],
    ['skipped_keys', { ...good, skipped_keys: { nope: '00'.repeat(32) } }],
    ['skipped_keys', { ...good, skipped_keys: { [`${'ab'.repeat(32)}:01`]: '00'.repeat(32) } }],
    ['skipped_keys', { ...good, skipped_keys: Object.fromEntries(Array.from({ length: MAX_SKIPPED_TOTAL + 1 }, (_, i) => [`${'ab'.repeat(32)}:${i}`, '00'.repeat(32)])) }],
  ])('refuses a bad %s', (field, json) => {
    const r = ratchetStateFromJson(json);
    expect(r).toMatchObject({ ok: false, code: 'MESH_STATE_INVALID' });
    expect(!r.ok && r.message).toContain(field);
  });
});
