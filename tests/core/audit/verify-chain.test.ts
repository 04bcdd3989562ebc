// The verifier names the first broken entry for every kind of tampering an attacker with store write access can do:
// to entries, to the receipts inside a batch (changed, dropped, reordered, inserted leaf), a forked entry, checkpoints.
import { describe, expect, it } from 'vitest';
import { chainNames } from '../../../core/audit/chain-select';
import { verifyAuditLog, verifyChain } from '../../../core/audit/verify-chain';
import type { ChainReport } from '../../../core/audit/verify-chain';
import { auditRig, input, keysOf, newKey } from './audit-fixture';
import type { AuditRig } from './audit-fixture';
import {
  addUnhashedField, addUnhashedLeafField, changeLeaf, deleteReceipt, dropLeaf, editHeader, editReceipt, forgeCheckpointHash,
  forgeCheckpointTreeHead, forkEntry, injectForeignRecord, insertLeaf, moveCheckpoint, rebuildFrom, reorderLeaves,
  resignCheckpoint, swapReceipts, truncate,
} from './tamper';

const CHAIN = 'audit-00';

/** 23 entries of 3 receipts each (issued in one turn, so batched together), checkpoints at 5, 10, 15, 20, head hint at 16. */
async function chainOf23(): Promise<AuditRig> {
  const rig = auditRig();
  const a = rig.appender({ checkpointEvery: 5, headHintEvery: 8 });
  for (let i = 1; i <= 23; i += 1) {
    rig.clock.advance(10);
    const batch = await Promise.all([0, 1, 2].map((k) => a.appendToChain(CHAIN, input(i * 3 + k))));
    if (batch.some((r) => r.seq !== i)) throw new Error('fixture: expected one entry per turn');
  }
  await a.whenIdle();
  return rig;
}

async function verify(rig: AuditRig, extra?: { trustedHeads?: { chain: string; seq: number; hash: string }[] }): Promise<ChainReport> {
  return verifyChain(rig.store, CHAIN, { trustedKeys: keysOf(rig.key), pageSize: 7, ...extra });
}

function brokenAt(report: ChainReport): [number, string] | undefined {
  return report.break ? [report.break.seq, report.break.kind] : undefined;
}

describe('verifyChain', () => {
  it('passes an intact chain and reports its tip and checkpoints', async () => {
    const rig = await chainOf23();
    const report = await verify(rig);
    expect(report.break).toBeUndefined();
    expect(report).toMatchObject({ receipts: 69, entries: 23, validCheckpoints: 4, tip: { seq: 23 }, lastCheckpoint: { seq: 20 } });
  });

  it('a changed leaf → tree-head-mismatch at its entry', async () => {
    const rig = await chainOf23();
    await changeLeaf(rig.mem.documents, CHAIN, 7, 1, { rehash: false });
    expect(brokenAt(await verify(rig))).toEqual([7, 'tree-head-mismatch']);
  });

  it('a dropped leaf → tree-head-mismatch, whether or not the size is fixed up', async () => {
    const rig = await chainOf23();
    await dropLeaf(rig.mem.documents, CHAIN, 7, 2, { rehash: false });
    expect(brokenAt(await verify(rig))).toEqual([7, 'tree-head-mismatch']);
    const rig2 = await chainOf23();
    await dropLeaf(rig2.mem.documents, CHAIN, 7, 2, { rehash: true }); // tree head and hash recomputed: the link breaks
    expect(brokenAt(await verify(rig2))).toEqual([8, 'link-mismatch']);
  });

  it('reordered leaves → tree-head-mismatch', async () => {
    const rig = await chainOf23();
    await reorderLeaves(rig.mem.documents, CHAIN, 9, 0, 2);
    expect(brokenAt(await verify(rig))).toEqual([9, 'tree-head-mismatch']);
  });

  it('an inserted leaf → tree-head-mismatch; inserted and rehashed → link-mismatch at the next entry', async () => {
    const rig = await chainOf23();
    await insertLeaf(rig.mem.documents, CHAIN, 4, 1, { rehash: false });
    expect(brokenAt(await verify(rig))).toEqual([4, 'tree-head-mismatch']);
    const rig2 = await chainOf23();
    await insertLeaf(rig2.mem.documents, CHAIN, 4, 1, { rehash: true });
    expect(brokenAt(await verify(rig2))).toEqual([5, 'link-mismatch']);
  });

  it('a forked entry (another batch after the same predecessor, validly hashed) → link-mismatch; at a checkpoint → checkpoint-hash-mismatch', async () => {
    const rig = await chainOf23();
    await forkEntry(rig.mem.documents, CHAIN, 12);
    expect(brokenAt(await verify(rig))).toEqual([13, 'link-mismatch']);
    const rig2 = await chainOf23();
    await forkEntry(rig2.mem.documents, CHAIN, 23); // the tip: no successor to disagree, but...
    expect((await verify(rig2)).break).toBeUndefined(); // ...the unsigned window (documented limit)
    const rig3 = await chainOf23();
    await forkEntry(rig3.mem.documents, CHAIN, 20);
    expect(brokenAt(await verify(rig3))).toEqual([20, 'checkpoint-hash-mismatch']);
  });

  it('edit a header in place → hash-mismatch at that seq', async () => {
    const rig = await chainOf23();
    await editHeader(rig.mem.documents, CHAIN, 7);
    expect(brokenAt(await verify(rig))).toEqual([7, 'hash-mismatch']);
  });

  it('edit and rehash → link-mismatch at the next seq', async () => {
    const rig = await chainOf23();
    await editReceipt(rig.mem.documents, CHAIN, 7, { rehash: true });
    expect(brokenAt(await verify(rig))).toEqual([8, 'link-mismatch']);
  });

  it('delete → sequence-gap at the missing seq', async () => {
    const rig = await chainOf23();
    await deleteReceipt(rig.mem.documents, CHAIN, 9);
    expect(brokenAt(await verify(rig))).toEqual([9, 'sequence-gap']);
  });

  it('swap two receipts → reordered at the first swapped position', async () => {
    const rig = await chainOf23();
    await swapReceipts(rig.mem.documents, CHAIN, 11, 12);
    expect(brokenAt(await verify(rig))).toEqual([11, 'reordered']);
  });

  it('rebuild the tail with consistent links → checkpoint-hash-mismatch at the first checkpoint it crosses', async () => {
    const rig = await chainOf23();
    await rebuildFrom(rig.mem.documents, CHAIN, 18, 23);
    expect(brokenAt(await verify(rig))).toEqual([20, 'checkpoint-hash-mismatch']);
  });

  it('truncate below a checkpoint → checkpoint-beyond-tip at the first missing seq', async () => {
    const rig = await chainOf23();
    await truncate(rig.mem.documents, CHAIN, 19, 23, { checkpoints: false });
    const report = await verify(rig);
    expect(brokenAt(report)).toEqual([19, 'checkpoint-beyond-tip']);
    expect(report.break?.detail).toContain('vouches for seq 20');
  });

  it('truncate and re-sign the new tip with another key → unknown-key', async () => {
    const rig = await chainOf23();
    await truncate(rig.mem.documents, CHAIN, 19, 23, { checkpoints: true, headHint: true });
    await resignCheckpoint(rig.mem.documents, CHAIN, 18, newKey().privateKey, rig.clock.nowMs());
    expect(brokenAt(await verify(rig))).toEqual([18, 'unknown-key']);
  });

  it('truncate and delete the checkpoints → only the head hint gives it away (head-beyond-tip)', async () => {
    const rig = await chainOf23();
    await truncate(rig.mem.documents, CHAIN, 13, 23, { checkpoints: true });
    expect(brokenAt(await verify(rig))).toEqual([13, 'head-beyond-tip']);
  });

  it('truncate, delete checkpoints and hint: invisible to the store alone, caught by the verifier\'s trusted state', async () => {
    const rig = await chainOf23();
    const before = await verify(rig);
    await truncate(rig.mem.documents, CHAIN, 13, 23, { checkpoints: true, headHint: true });
    expect((await verify(rig)).break).toBeUndefined(); // the documented limit of any log that holds its own evidence
    const trustedHeads = [{ chain: CHAIN, seq: before.tip!.seq, hash: before.tip!.hash }];
    expect(brokenAt(await verify(rig, { trustedHeads }))).toEqual([13, 'checkpoint-beyond-tip']);
  });

  it('a checkpoint whose hash was changed → checkpoint-signature-invalid', async () => {
    const rig = await chainOf23();
    await forgeCheckpointHash(rig.mem.documents, CHAIN, 15);
    expect(brokenAt(await verify(rig))).toEqual([15, 'checkpoint-signature-invalid']);
  });

  it('a valid checkpoint replayed at another position → checkpoint-signature-invalid', async () => {
    const rig = await chainOf23();
    await moveCheckpoint(rig.mem.documents, CHAIN, 10, 12);
    expect(brokenAt(await verify(rig))).toEqual([12, 'checkpoint-signature-invalid']);
  });

  it('a field outside the hash → hash-mismatch (unhashed content is never presented as audited)', async () => {
    const rig = await chainOf23();
    await addUnhashedField(rig.mem.documents, CHAIN, 4);
    expect(brokenAt(await verify(rig))).toEqual([4, 'hash-mismatch']);
    const rig2 = await chainOf23();
    await addUnhashedLeafField(rig2.mem.documents, CHAIN, 4, 2);
    expect(brokenAt(await verify(rig2))).toEqual([4, 'tree-head-mismatch']);
  });

  it('a checkpoint whose tree head was changed → checkpoint-signature-invalid', async () => {
    const rig = await chainOf23();
    await forgeCheckpointTreeHead(rig.mem.documents, CHAIN, 10);
    expect(brokenAt(await verify(rig))).toEqual([10, 'checkpoint-signature-invalid']);
  });

  it('a foreign record among the receipts → reordered', async () => {
    const rig = await chainOf23();
    await injectForeignRecord(rig.mem.documents, CHAIN);
    expect(brokenAt(await verify(rig))).toEqual([24, 'reordered']);
  });

  it('a receipt whose data holds a float (cannot be canonical) → tree-head-mismatch, not a crash', async () => {
    const rig = await chainOf23();
    const { doc, etag } = (await rig.mem.documents.read(CHAIN, `${CHAIN}:000000000003`))!;
    // Not canonical-encodable: written as plain JSON, as an attacker with store access could.
    const receipts = (doc['receipts'] as string[]).map((r, i) => (i === 0 ? JSON.stringify({ ...JSON.parse(r), data: { n: 0.5 } }) : r));
    await rig.mem.documents.replace(CHAIN, { ...doc, receipts }, { ifMatch: etag });
    expect(brokenAt(await verify(rig))).toEqual([3, 'tree-head-mismatch']);
  });

  it('never reports a false break while writers keep appending during the walk', async () => {
    const rig = await chainOf23();
    const writers = [rig.appender({ checkpointEvery: 3, headHintEvery: 2 }), rig.appender({ checkpointEvery: 3, headHintEvery: 2 })];
    let running = true;
    const load = writers.map(async (w, i) => {
      for (let n = 0; running && n < 400; n += 1) await w.appendToChain(CHAIN, input(n, `w${i}`));
    });
    const reports: ChainReport[] = [];
    for (let i = 0; i < 15; i += 1) reports.push(await verify(rig));
    running = false;
    await Promise.all(load);
    expect(reports.map((r) => r.break)).toEqual(reports.map(() => undefined));
    expect(reports.at(-1)!.receipts).toBeGreaterThan(reports[0]!.receipts); // the walks really overlapped the appends
  });

  it('reports the FIRST break when there are several', async () => {
    const rig = await chainOf23();
    await deleteReceipt(rig.mem.documents, CHAIN, 17);
    await forgeCheckpointHash(rig.mem.documents, CHAIN, 20);
    await editReceipt(rig.mem.documents, CHAIN, 6, { rehash: false });
    expect(brokenAt(await verify(rig))).toEqual([6, 'tree-head-mismatch']);
  });

  it('without the checkpoint key every checkpoint is unknown-key (the verifier must be told whom to trust)', async () => {
    const rig = await chainOf23();
    const report = await verifyChain(rig.store, CHAIN, { trustedKeys: keysOf(newKey()) });
    expect(brokenAt(report)).toEqual([5, 'unknown-key']);
  });
});

describe('verifyAuditLog', () => {
  it('walks registered and layout chains, isolates breaks per chain, and reports the newest checkpoint', async () => {
    const rig = auditRig();
    const a = rig.appender({ checkpointEvery: 3 });
    const layout = { prefix: 'audit', count: 4 };
    for (let i = 0; i < 40; i += 1) {
      rig.clock.advance(5);
      await a.append(input(i, `tenant-${i}`));
    }
    await a.whenIdle();
    await rig.mem.documents.delete('~chains', 'audit-02'); // a lost registry entry must not hide the chain
    const ok = await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key), layout });
    expect(ok.ok).toBe(true);
    expect(ok.chains.map((c) => c.chain)).toEqual(chainNames(layout));
    expect(ok.receipts).toBe(40);
    const newest = Math.max(...ok.chains.map((c) => c.lastCheckpoint?.timeMs ?? 0));
    expect(ok.lastCheckpoint?.timeMs).toBe(newest);

    await editReceipt(rig.mem.documents, 'audit-02', 2, { rehash: false });
    const bad = await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key), layout });
    expect(bad.ok).toBe(false);
    expect(bad.chains.filter((c) => c.break).map((c) => [c.chain, c.break?.seq, c.break?.kind])).toEqual([['audit-02', 2, 'tree-head-mismatch']]);
  });
});
