// Entry and receipt ids, the leaf/entry hashes (checked against hand-built preimages), the version 1 link hash that
// chains written before batching still carry, and input validation.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertProperty } from '../../support/property';
import { canonicalJson, isCanonicalValue, type CanonicalObject } from '../../../core/audit/canonical-json';
import { chainForSubject, chainNames } from '../../../core/audit/chain-select';
import { merkleTreeHead } from '../../../core/audit/merkle-tree';
import {
  GENESIS_HASH, PreparedBatch, PreparedReceipt, _buildLegacyReceipt, assertReceiptInput, checkpointId, entryId, hashEntryHeader,
  hashLegacyReceipt, hashReceiptLeaf, leafHashOfJson, parseCheckpointId, parseEntryId, parseReceiptId, parseReceiptLeaf, receiptId,
} from '../../../core/audit/receipt';
import type { LegacyReceiptCore } from '../../../core/audit/receipt';
import { isKarsError } from '../../../core/errors';
import type { AuditReceiptInput } from '../../../core/ports/receipt-log.port';

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return isKarsError(e) ? e.code : 'other';
  }
}

const sha = (...parts: (string | Buffer)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('ids', () => {
  it('pads seq to 12 digits and the leaf index to 3, so string order is numeric order', () => {
    expect(entryId('audit-00', 7)).toBe('audit-00:000000000007');
    expect(receiptId('audit-00', 7, 5)).toBe('audit-00:000000000007:005');
    expect(checkpointId('audit-00', 64)).toBe('audit-00:ckpt:000000000064');
    const ids = [1, 2, 9, 10, 11, 100, 99].map((n) => entryId('c', n));
    expect([...ids].sort()).toEqual([1, 2, 9, 10, 11, 99, 100].map((n) => entryId('c', n)));
  });

  it('round-trips through the parsers and rejects every other shape', () => {
    expect(parseEntryId(entryId('audit-03', 123))).toEqual({ chain: 'audit-03', seq: 123 });
    expect(parseReceiptId(receiptId('audit-03', 123, 255))).toEqual({ chain: 'audit-03', seq: 123, index: 255 });
    expect(parseReceiptId(entryId('audit-03', 123))).toEqual({ chain: 'audit-03', seq: 123 }); // a version 1 receipt
    expect(parseCheckpointId(checkpointId('audit-03', 5))).toEqual({ chain: 'audit-03', seq: 5 });
    for (const bad of ['audit-00:00000000001', 'audit-00:0000000000001', 'audit-00:000000000000', 'Audit:000000000001',
      'audit-00:ckpt:000000000001', 'audit-00:head', ':000000000001', 'audit-00:00000000000x', 'audit-00:000000000001:256',
      'audit-00:000000000001:01', 'audit-00:000000000001:0001']) {
      expect(parseReceiptId(bad)).toBeUndefined();
    }
    expect(parseEntryId('audit-00:000000000001:000')).toBeUndefined();
    expect(parseCheckpointId('audit-00:000000000001')).toBeUndefined();
  });

  it('refuses seq 0, negative, fractional and too-large seq, and leaf indexes outside 0..255', () => {
    for (const seq of [0, -1, 1.5, 10 ** 12, Number.NaN]) expect(codeOf(() => entryId('c', seq))).toBe('INPUT_INVALID');
    for (const index of [-1, 256, 1.5]) expect(codeOf(() => receiptId('c', 1, index))).toBe('INPUT_INVALID');
  });
});

describe('leaf and entry hashes (version 2)', () => {
  const leaf: AuditReceiptInput = { subject: 'tenant-1', kind: 'edge.webhook', outcome: 'accepted', data: { b: 'x', a: 1 } };

  it('a leaf is SHA-256(0x00 ‖ domain tag ‖ canonical JSON of the receipt) (RFC 9162 §2.1.1)', () => {
    const json = '{"data":{"a":1,"b":"x"},"kind":"edge.webhook","outcome":"accepted","subject":"tenant-1"}';
    const expected = sha(Buffer.from([0]), 'kars.audit.receipt.v2\n', json);
    expect(new PreparedReceipt(leaf).leafHash.toString('hex')).toBe(expected);
    expect(hashReceiptLeaf(leaf).toString('hex')).toBe(expected);
  });

  it('an entry hash is SHA-256 over its domain tag and canonical header; its tree head is the MTH of its leaves', () => {
    const batch = new PreparedBatch([new PreparedReceipt(leaf), new PreparedReceipt({ ...leaf, outcome: 'rejected' })]);
    const e = batch.entryAfter('audit-00', 41, 'a'.repeat(64), 5);
    const leaves = [hashReceiptLeaf(leaf), hashReceiptLeaf({ ...leaf, outcome: 'rejected' })];
    expect(e.treeHead).toBe(sha(Buffer.from([1]), leaves[0]!, leaves[1]!));
    expect(e.treeHead).toBe(merkleTreeHead(leaves).toString('hex'));
    const header = `{"chain":"audit-00","previousHash":"${'a'.repeat(64)}","seq":42,"size":2,"timeMs":5,"treeHead":"${e.treeHead}","v":2}`;
    expect(e.hash).toBe(sha('kars.audit.entry.v2\n', header));
    expect(e).toMatchObject({ id: 'audit-00:000000000042', seq: 42, size: 2, previousHash: 'a'.repeat(64) });
    expect(hashEntryHeader(e)).toBe(e.hash);
  });

  it('stores exactly what it hashed: later mutation of the caller\'s object cannot desync them', () => {
    const data: Record<string, number> = { n: 1 };
    const prepared = new PreparedReceipt({ subject: 's', kind: 'k', outcome: 'o', data });
    data['n'] = 2;
    const e = new PreparedBatch([prepared]).entryAfter('audit-01', 0, GENESIS_HASH, 1);
    expect(e.receipts).toEqual(['{"data":{"n":1},"kind":"k","outcome":"o","subject":"s"}']);
    expect(parseReceiptLeaf(e.receipts[0])).toEqual({ subject: 's', kind: 'k', outcome: 'o', data: { n: 1 } });
    expect(leafHashOfJson(e.receipts[0]!).equals(prepared.leafHash)).toBe(true);
  });

  it('hashes from its one encoding exactly what the verifier hashes from the stored receipt', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}$/);
    const input = fc.record({
      subject: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
      kind: label, outcome: label,
      data: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.jsonValue().filter(isCanonicalValue), { maxKeys: 6 }),
    });
    assertProperty(fc.property(fc.array(input, { minLength: 1, maxLength: 9 }), (inputs) => {
      const e = new PreparedBatch(inputs.map((i) => new PreparedReceipt(i as AuditReceiptInput))).entryAfter('audit-07', 3, 'b'.repeat(64), 9);
      const stored = JSON.parse(JSON.stringify(e.receipts)) as string[];
      const parsed = stored.map(parseReceiptLeaf);
      return merkleTreeHead(stored.map(leafHashOfJson)).toString('hex') === e.treeHead &&
        merkleTreeHead(parsed.map((r) => hashReceiptLeaf(r!))).toString('hex') === e.treeHead &&
        parsed.every((r, k) => canonicalJson(r!.data) === canonicalJson(inputs[k]!.data as CanonicalObject));
    }), { numRuns: 300 });
  });

  it('changes the tree head when a leaf changes, is dropped, added or moved', () => {
    const rs = [0, 1, 2].map((n) => new PreparedReceipt({ ...leaf, data: { n } }));
    const head = new PreparedBatch(rs).treeHead;
    expect(new PreparedBatch([rs[0]!, rs[2]!, rs[1]!]).treeHead).not.toBe(head);
    expect(new PreparedBatch(rs.slice(0, 2)).treeHead).not.toBe(head);
    expect(new PreparedBatch([...rs, rs[0]!]).treeHead).not.toBe(head);
    expect(new PreparedBatch([rs[0]!, rs[1]!, new PreparedReceipt({ ...leaf, data: { n: 3 } })]).treeHead).not.toBe(head);
  });

  it('reads back only canonical leaf data', () => {
    const json = new PreparedReceipt(leaf).leafJson;
    expect(parseReceiptLeaf(json)).toEqual(leaf);
    for (const bad of [json.replace('{"data":{"a":1,"b":"x"}', '{"data":{"b":"x","a":1}'), `${json} `, '{}', '[]', 42,
      json.replace('"subject":"tenant-1"', '"subject":"tenant-1","x":1')]) {
      expect(parseReceiptLeaf(bad)).toBeUndefined();
    }
  });

  it('refuses empty batches and batches over 256 receipts', () => {
    expect(codeOf(() => new PreparedBatch([]))).toBe('INPUT_INVALID');
    const r = new PreparedReceipt(leaf);
    expect(codeOf(() => new PreparedBatch(Array.from({ length: 257 }, () => r)))).toBe('INPUT_INVALID');
  });
});

describe('hashLegacyReceipt (version 1, chains written before batching)', () => {
  const core: LegacyReceiptCore = {
    v: 1, chain: 'audit-00', seq: 1, timeMs: 1700000000000, subject: 'tenant-1', kind: 'edge.webhook',
    outcome: 'accepted', data: { b: 'x', a: 1 }, previousHash: GENESIS_HASH,
  };

  it('is SHA-256 over the domain tag and the canonical JSON of the hashed fields (unchanged)', () => {
    const preimage = 'kars.audit.receipt.v1\n' +
      `{"chain":"audit-00","data":{"a":1,"b":"x"},"kind":"edge.webhook","outcome":"accepted","previousHash":"${GENESIS_HASH}",` +
      '"seq":1,"subject":"tenant-1","timeMs":1700000000000,"v":1}';
    expect(hashLegacyReceipt(core)).toBe(sha(preimage));
    expect(_buildLegacyReceipt('audit-00', 0, GENESIS_HASH, 1700000000000, core).hash).toBe(sha(preimage));
  });

  it('changes when any hashed field changes', () => {
    const base = hashLegacyReceipt(core);
    const variants: Partial<LegacyReceiptCore>[] = [
      { chain: 'audit-01' }, { seq: 2 }, { timeMs: 1700000000001 }, { subject: 'tenant-2' }, { kind: 'edge.other' },
      { outcome: 'rejected' }, { data: { a: 2, b: 'x' } }, { previousHash: 'f'.repeat(64) },
    ];
    for (const v of variants) expect(hashLegacyReceipt({ ...core, ...v })).not.toBe(base);
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
