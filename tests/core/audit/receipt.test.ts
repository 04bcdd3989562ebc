// Receipt ids, the link hash (checked against a hand-built preimage) and input validation.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { assertProperty } from '../../support/property';
import { describe, expect, it } from 'vitest';
import { canonicalJson, isCanonicalValue, type CanonicalObject } from '../../../core/audit/canonical-json';
import { chainForSubject, chainNames } from '../../../core/audit/chain-select';
import {
  GENESIS_HASH, PreparedReceiptInput, assertReceiptInput, buildReceipt, checkpointId, hashReceipt, parseCheckpointId, parseReceiptId,
  receiptId,
} from '../../../core/audit/receipt';
import type { ReceiptCore, ReceiptInput } from '../../../core/audit/receipt';
import { isKarsError } from '../../../core/errors';

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return isKarsError(e) ? e.code : 'other';
  }
}

describe('receipt ids', () => {
  it('pads seq to 12 digits so string order is numeric order', () => {
    expect(receiptId('audit-00', 7)).toBe('audit-00:000000000007');
    expect(checkpointId('audit-00', 64)).toBe('audit-00:ckpt:000000000064');
    const ids = [1, 2, 9, 10, 11, 100, 99].map((n) => receiptId('c', n));
    expect([...ids].sort()).toEqual([1, 2, 9, 10, 11, 99, 100].map((n) => receiptId('c', n)));
  });

  it('round-trips through the parsers and rejects every other shape', () => {
    expect(parseReceiptId(receiptId('audit-03', 123))).toEqual({ chain: 'audit-03', seq: 123 });
    expect(parseCheckpointId(checkpointId('audit-03', 5))).toEqual({ chain: 'audit-03', seq: 5 });
    for (const bad of ['audit-00:00000000001', 'audit-00:0000000000001', 'audit-00:000000000000', 'Audit:000000000001',
      'audit-00:ckpt:000000000001', 'audit-00:head', ':000000000001', 'audit-00:00000000000x']) {
      expect(parseReceiptId(bad)).toBeUndefined();
    }
    expect(parseCheckpointId('audit-00:000000000001')).toBeUndefined();
  });

  it('refuses seq 0, negative, fractional and too-large seq', () => {
    for (const seq of [0, -1, 1.5, 10 ** 12, Number.NaN]) expect(codeOf(() => receiptId('c', seq))).toBe('INPUT_INVALID');
  });
});

describe('hashReceipt', () => {
  const core: ReceiptCore = {
    v: 1, chain: 'audit-00', seq: 1, timeMs: 1700000000000, subject: 'tenant-1', kind: 'edge.webhook',
    outcome: 'accepted', data: { b: 'x', a: 1 }, previousHash: GENESIS_HASH,
  };

  it('is SHA-256 over the domain tag and the canonical JSON of the hashed fields', () => {
    const preimage = 'kars.audit.receipt.v1\n' +
      `{"chain":"audit-00","data":{"a":1,"b":"x"},"kind":"edge.webhook","outcome":"accepted","previousHash":"${GENESIS_HASH}",` +
      '"seq":1,"subject":"tenant-1","timeMs":1700000000000,"v":1}';
    expect(hashReceipt(core)).toBe(createHash('sha256').update(preimage).digest('hex'));
  });

  it('changes when any hashed field changes', () => {
    const base = hashReceipt(core);
    const variants: Partial<ReceiptCore>[] = [
      { chain: 'audit-01' }, { seq: 2 }, { timeMs: 1700000000001 }, { subject: 'tenant-2' }, { kind: 'edge.other' },
      { outcome: 'rejected' }, { data: { a: 2, b: 'x' } }, { previousHash: 'f'.repeat(64) },
    ];
    for (const v of variants) expect(hashReceipt({ ...core, ...v })).not.toBe(base);
  });

  it('ignores fields outside the hashed set (they are refused by the verifier instead)', () => {
    expect(hashReceipt({ ...core, extra: 1 } as ReceiptCore)).toBe(hashReceipt(core));
  });
});

describe('buildReceipt', () => {
  it('links to the previous hash, derives the id, and copies the data so later mutation cannot desync the hash', () => {
    const data: Record<string, number> = { n: 1 };
    const r = buildReceipt('audit-01', 41, 'a'.repeat(64), 5, { subject: 's', kind: 'k', outcome: 'o', data });
    data['n'] = 2;
    expect(r).toMatchObject({ seq: 42, id: 'audit-01:000000000042', previousHash: 'a'.repeat(64), data: { n: 1 } });
    const { id: _id, hash, ...rest } = r;
    expect(hash).toBe(hashReceipt(rest));
  });

  it('hashes from its one encoding exactly what hashReceipt hashes from the stored fields', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}$/);
    const input = fc.record({
      subject: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
      kind: label, outcome: label,
      data: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.jsonValue().filter(isCanonicalValue), { maxKeys: 6 }),
    });
    assertProperty(fc.property(input, fc.nat(10 ** 9), fc.maxSafeNat(), (i, prev, timeMs) => {
      const r = buildReceipt('audit-07', prev, 'b'.repeat(64), timeMs, new PreparedReceiptInput(i as ReceiptInput));
      const { id: _id, hash, ...rest } = r;
      return hash === hashReceipt(rest) && canonicalJson(rest.data) === canonicalJson(i.data as CanonicalObject);
    }), { numRuns: 500 });
  });

  it('refuses a time or a subject the canonical encoding refuses, as hashReceipt would', () => {
    const input = { subject: 's', kind: 'k', outcome: 'o', data: {} };
    for (const timeMs of [1.5, -0, 2 ** 53]) expect(codeOf(() => buildReceipt('audit-01', 0, GENESIS_HASH, timeMs, input))).toBe('INPUT_INVALID');
    expect(codeOf(() => buildReceipt('audit-01', 0, GENESIS_HASH, 1, { ...input, subject: 'a\ud800' }))).toBe('INPUT_INVALID');
  });
});

describe('assertReceiptInput', () => {
  const ok = { subject: 'did:mesh:abc 1', kind: 'mesh.envelope', outcome: 'accepted', data: {} };
  it('accepts free-text subjects and dotted kinds', () => {
    expect(codeOf(() => assertReceiptInput(ok))).toBe('accepted');
  });
  it.each([
    ['float in data', { ...ok, data: { ms: 1.5 } }],
    ['array data', { ...ok, data: [] }],
    ['empty subject', { ...ok, subject: '' }],
    ['control char in subject', { ...ok, subject: 'a\nb' }],
    ['overlong subject', { ...ok, subject: 'x'.repeat(257) }],
    ['kind with spaces', { ...ok, kind: 'edge webhook' }],
    ['empty outcome', { ...ok, outcome: '' }],
  ])('refuses %s', (_l, value) => {
    expect(codeOf(() => assertReceiptInput(value as never))).toBe('INPUT_INVALID');
  });
});

describe('chainForSubject', () => {
  const layout = { prefix: 'audit', count: 4 };
  it('is stable and stays within the layout', () => {
    const names = new Set(chainNames(layout));
    for (let i = 0; i < 50; i += 1) {
      const c = chainForSubject(layout, `tenant-${i}`);
      expect(names.has(c)).toBe(true);
      expect(chainForSubject(layout, `tenant-${i}`)).toBe(c);
    }
  });
  it('spreads subjects over all chains', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i += 1) {
      const c = chainForSubject(layout, `subject-${i}`);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(chainNames(layout));
    for (const n of counts.values()) expect(n).toBeGreaterThan(400);
  });
});
