// T4-D/T4-T: skipped-key caps. One message may make the receiver derive and keep at most 100 keys per chain; all
// chains together keep at most 2,000 (oldest evicted). A header that asks for more is refused before any key is
// derived, so a hostile peer cannot buy CPU or memory with a counter.
import { describe, expect, it } from 'vitest';
import { MESH_SUITE_NAMES } from '../../../core/mesh/mesh-suites';
import { MAX_SKIP_PER_CHAIN, MAX_SKIPPED_TOTAL, ratchetDecrypt, ratchetEncrypt, type RatchetMessage, type RatchetState } from '../../../core/mesh/ratchet';
import { AD, ratchetPair, snapshot } from './ratchet-pair';

const enc = (s: RatchetState, t = 'x'): RatchetMessage => {
  const r = ratchetEncrypt(s, new TextEncoder().encode(t), AD);
  if (!r.ok) throw new Error(r.code);
  return r.value;
};

describe.each(MESH_SUITE_NAMES)('skipped-key caps (%s)', (suite) => {
  it(`skips exactly ${MAX_SKIP_PER_CHAIN} keys in one chain, refuses ${MAX_SKIP_PER_CHAIN + 1} with no state change`, () => {
    const { a, b } = ratchetPair(suite);
    const sent = Array.from({ length: MAX_SKIP_PER_CHAIN + 2 }, (_, i) => enc(a, `m${i}`));
    const before = snapshot(b);
    expect(ratchetDecrypt(b, sent[MAX_SKIP_PER_CHAIN + 1]!, AD)).toMatchObject({ ok: false, code: 'MESH_SKIP_LIMIT' });
    expect(snapshot(b)).toBe(before);
    expect(ratchetDecrypt(b, sent[MAX_SKIP_PER_CHAIN]!, AD).ok).toBe(true);
    expect(b.skipped.size).toBe(MAX_SKIP_PER_CHAIN);
    expect(ratchetDecrypt(b, sent[0]!, AD).ok).toBe(true);
    expect(b.skipped.size).toBe(MAX_SKIP_PER_CHAIN - 1);
  });

  it('refuses a previous-chain length that would skip more than the cap across a DH ratchet step', () => {
    const { a, b } = ratchetPair(suite);
    expect(ratchetDecrypt(b, enc(a), AD).ok).toBe(true);
    const lost = Array.from({ length: MAX_SKIP_PER_CHAIN + 1 }, () => enc(a));
    expect(lost).toHaveLength(MAX_SKIP_PER_CHAIN + 1);
    expect(ratchetDecrypt(a, enc(b), AD).ok).toBe(true);
    const before = snapshot(b);
    // A's new chain announces pn = 102 while B has read only message 0 of the old one: 101 keys to skip.
    expect(ratchetDecrypt(b, enc(a), AD)).toMatchObject({ ok: false, code: 'MESH_SKIP_LIMIT' });
    expect(snapshot(b)).toBe(before);
  });

  it(`keeps at most ${MAX_SKIPPED_TOTAL} skipped keys across chains, evicting the oldest; an evicted key's message is refused`, () => {
    const { a, b } = ratchetPair(suite);
    let firstSkipped: RatchetMessage | undefined;
    let lastSkipped: RatchetMessage | undefined;
    const rounds = Math.ceil(MAX_SKIPPED_TOTAL / MAX_SKIP_PER_CHAIN) + 1;
    for (let round = 0; round < rounds; round += 1) {
      const chain = Array.from({ length: MAX_SKIP_PER_CHAIN + 1 }, () => enc(a));
      firstSkipped ??= chain[0];
      lastSkipped = chain[MAX_SKIP_PER_CHAIN - 1];
      expect(ratchetDecrypt(b, chain[MAX_SKIP_PER_CHAIN]!, AD).ok).toBe(true);
      expect(ratchetDecrypt(a, enc(b), AD).ok).toBe(true);
      expect(b.skipped.size).toBeLessThanOrEqual(MAX_SKIPPED_TOTAL);
    }
    expect(b.skipped.size).toBe(MAX_SKIPPED_TOTAL);
    expect(ratchetDecrypt(b, firstSkipped!, AD).ok).toBe(false);
    expect(ratchetDecrypt(b, lastSkipped!, AD).ok).toBe(true);
  });

  it('a forged header asking for 2^32−1 skips is refused at once (no keys derived)', () => {
    const { a, b } = ratchetPair(suite);
    const m = enc(a);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i += 1) {
      expect(ratchetDecrypt(b, { ...m, header: { ...m.header, messageNumber: 0xffff_ffff } }, AD)).toMatchObject({ ok: false, code: 'MESH_SKIP_LIMIT' });
    }
    // 100 refusals cost no more than deriving 100 × 2^32 keys would; a generous bound that still fails if they derive.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5_000);
    expect(b.skipped.size).toBe(0);
  });
});
