// Appends in group commits: one entry per batch, linked and gap-free, no forks when many "instances" race on one chain,
// bounded batches, each caller released only when its own batch is stored, checkpoints over tree heads, failures contained.
import { describe, expect, it } from 'vitest';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import type { AppendedReceipt } from '../../../core/audit/append-receipt';
import { chainNames } from '../../../core/audit/chain-select';
import { GENESIS_HASH, MAX_ENTRY_RECEIPTS, _buildLegacyReceipt, entryId } from '../../../core/audit/receipt';
import { signCheckpoint } from '../../../core/audit/checkpoint';
import { verifyAuditLog, verifyChain } from '../../../core/audit/verify-chain';
import { KarsError } from '../../../core/errors';
import type { LogFields, Logger } from '../../../core/ports/logger.port';
import type { ReceiptStore } from '../../../core/ports/receipt-store.port';
import { auditRig, input, keysOf } from './audit-fixture';
import { settledCode } from '../../support/settled-code';

function recordingLogger(): Logger & { events: { event: string; fields: LogFields | undefined }[] } {
  const events: { event: string; fields: LogFields | undefined }[] = [];
  const push = (event: string, fields?: LogFields) => { events.push({ event, fields }); };
  return { events, info: push, warn: push, error: push };
}

const STORE_METHODS = [
  'createEntry', 'readEntry', 'readLastEntry', 'listEntries', 'readHeadHint', 'writeHeadHint', 'createCheckpoint',
  'listCheckpoints', 'registerChain', 'listChains',
] as const;

/** The real store with some methods replaced (the rest delegate, bound, since the store keeps private fields). */
function overrideStore(inner: ReceiptStore, overrides: Partial<ReceiptStore>): ReceiptStore {
  const out = {} as Record<string, unknown>;
  for (const m of STORE_METHODS) out[m] = overrides[m] ?? (inner[m] as (...a: unknown[]) => unknown).bind(inner);
  return out as unknown as ReceiptStore;
}

/** A store whose createEntry first lets `before` run (a competitor that wins the race), then delegates. */
function racingStore(inner: ReceiptStore, before: () => Promise<void>): ReceiptStore {
  return overrideStore(inner, {
    createEntry: async (r, o) => {
      await before();
      return inner.createEntry(r, o);
    },
  });
}

/** A store that holds every entry write until released, counting them (sizes in order). */
function heldStore(inner: ReceiptStore): { store: ReceiptStore; sizes: number[]; waiting: () => number; release: () => void } {
  const sizes: number[] = [];
  let gates: (() => void)[] = [];
  return {
    sizes,
    waiting: () => gates.length,
    release: () => {
      const open = gates;
      gates = [];
      for (const g of open) g();
    },
    store: overrideStore(inner, {
      createEntry: async (e, o) => {
        sizes.push('receipts' in e ? e.receipts.length : 1);
        await new Promise<void>((r) => gates.push(r));
        return inner.createEntry(e, o);
      },
    }),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i += 1) await tick();
  if (!cond()) throw new Error('condition never held');
}

describe('ReceiptAppender', () => {
  it('appends a linked, gap-free chain of entries starting from the genesis hash', async () => {
    const rig = auditRig();
    const a = rig.appender();
    const out: AppendedReceipt[] = [];
    for (let i = 1; i <= 10; i += 1) {
      rig.clock.advance(1000);
      out.push(await a.appendToChain('audit-00', input(i)));
    }
    // One at a time: nothing arrives while a write is in flight, so each entry holds one receipt.
    expect(out.map((r) => [r.seq, r.index, r.size])).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 0, 1]));
    expect(out[0]?.id).toBe('audit-00:000000000001:000');
    const first = await rig.store.readEntry('audit-00', 1);
    expect(first?.body['previousHash']).toBe(GENESIS_HASH);
    for (let i = 2; i <= 10; i += 1) {
      expect((await rig.store.readEntry('audit-00', i))?.body['previousHash']).toBe(out[i - 2]?.entryHash);
    }
    expect(out[9]?.timeMs).toBe(1_700_000_000_000 + 10_000);
    const report = await verifyChain(rig.store, 'audit-00', { trustedKeys: keysOf(rig.key) });
    expect(report).toMatchObject({ receipts: 10, entries: 10, tip: { seq: 10 } });
    expect(report.break).toBeUndefined();
  });

  it('writes the receipts that arrive while a write is in flight as ONE next entry, as soon as it commits', async () => {
    const rig = auditRig();
    const held = heldStore(rig.store);
    const a = rig.appender({}, held.store);
    const settled: string[] = [];
    const track = (p: Promise<AppendedReceipt>, name: string) => p.then((r) => { settled.push(name); return r; });
    const lone = track(a.appendToChain('audit-00', input(0)), 'lone');
    await until(() => held.waiting() === 1); // the lone receipt's entry is in flight, no timer held it back
    const later = Array.from({ length: 10 }, (_, i) => track(a.appendToChain('audit-00', input(i + 1)), `later-${i}`));
    await tick();
    expect(held.sizes).toEqual([1]); // the later ones wait for the write in flight
    held.release();
    await until(() => held.waiting() === 1);
    expect(held.sizes).toEqual([1, 10]); // ...then go out together in one write
    expect(settled).toEqual(['lone']); // and none of them is answered before its own entry is stored
    held.release();
    const written = await Promise.all(later);
    expect((await lone).id).toBe('audit-00:000000000001:000');
    expect(written.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `audit-00:000000000002:${String(i).padStart(3, '0')}`));
    expect(new Set(written.map((r) => r.treeHead)).size).toBe(1);
    const report = await verifyChain(rig.store, 'audit-00', { trustedKeys: keysOf(rig.key) });
    expect(report).toMatchObject({ receipts: 11, entries: 2 });
    expect(report.break).toBeUndefined();
  });

  it('bounds a batch at 256 receipts and at maxBatchBytes', async () => {
    const rig = auditRig();
    const held = heldStore(rig.store);
    const a = rig.appender({}, held.store);
    const first = a.appendToChain('audit-00', input(0));
    await until(() => held.waiting() === 1);
    const rest = Array.from({ length: 300 }, (_, i) => a.appendToChain('audit-00', input(i + 1)));
    while (held.sizes.length < 3 || held.waiting() > 0) {
      held.release();
      await tick();
    }
    await Promise.all([first, ...rest]);
    expect(held.sizes).toEqual([1, MAX_ENTRY_RECEIPTS, 300 - MAX_ENTRY_RECEIPTS]);

    const small = heldStore(auditRig().store);
    const b = new ReceiptAppender(small.store, { clock: rig.clock, maxBatchBytes: 350 });
    const big = { subject: 's', kind: 'k', outcome: 'o', data: { pad: 'x'.repeat(100) } }; // 158 bytes each
    const p0 = b.appendToChain('audit-00', big);
    await until(() => small.waiting() === 1);
    const ps = Array.from({ length: 5 }, () => b.appendToChain('audit-00', big));
    while (small.sizes.length < 4 || small.waiting() > 0) {
      small.release();
      await tick();
    }
    await Promise.all([p0, ...ps]);
    expect(small.sizes).toEqual([1, 2, 2, 1]);
  });

  it('fails only the callers of the batch whose write failed', async () => {
    const rig = auditRig();
    let writes = 0;
    const flaky = overrideStore(rig.store, {
      createEntry: async (e, o) => {
        writes += 1;
        await tick();
        if (writes === 2) throw new KarsError('STORE_UNAVAILABLE', 'down');
        return rig.store.createEntry(e, o);
      },
    });
    const a = rig.appender({}, flaky);
    const first = a.appendToChain('audit-00', input(0));
    await until(() => writes === 1);
    // Queued behind the first write: the second entry, whose write fails.
    const second = [1, 2, 3].map((n) => settledCode(a.appendToChain('audit-00', input(n))));
    expect((await first).seq).toBe(1);
    expect(await Promise.all(second)).toEqual(['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE', 'STORE_UNAVAILABLE']);
    expect((await a.appendToChain('audit-00', input(4))).seq).toBe(2);
  });

  it('drops a receipt whose caller aborts while it waits, and refuses an already aborted call', async () => {
    const rig = auditRig();
    const held = heldStore(rig.store);
    const a = rig.appender({}, held.store);
    const first = a.appendToChain('audit-00', input(0));
    await until(() => held.waiting() === 1);
    const gone = new AbortController();
    const dropped = a.appendToChain('audit-00', input(1), { abortSignal: gone.signal });
    const kept = a.appendToChain('audit-00', input(2));
    gone.abort();
    expect(await settledCode(dropped)).toBe('STORE_UNAVAILABLE');
    held.release();
    await until(() => held.waiting() === 1);
    held.release();
    await Promise.all([first, kept]);
    expect(held.sizes).toEqual([1, 1]);
    expect(await settledCode(a.appendToChain('audit-00', input(3), { abortSignal: gone.signal }))).toBe('STORE_UNAVAILABLE');
  });

  it('routes a subject to its chain and registers every chain it writes', async () => {
    const rig = auditRig();
    const a = rig.appender();
    const subjects = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    const written = await Promise.all(subjects.map((s, i) => a.append(input(i, s))));
    written.forEach((r, i) => expect(r.chain).toBe(a.chainFor(subjects[i] as string)));
    expect((await rig.store.listChains()).sort()).toEqual([...new Set(written.map((r) => r.chain))].sort());
  });

  it('never forks or leaves a gap when several instances race on the same chains', async () => {
    const rig = auditRig();
    const instances = Array.from({ length: 5 }, () => rig.appender({ checkpointEvery: 3, headHintEvery: 2 }));
    const chains = ['audit-00', 'audit-01'];
    const work = instances.flatMap((inst, w) =>
      Array.from({ length: 30 }, (_, n) => inst.appendToChain(chains[n % 2] as string, { ...input(n), data: { w, n } })));
    const written = await Promise.all(work);
    await Promise.all(instances.map((i) => i.whenIdle()));
    expect(new Set(written.map((r) => r.id)).size).toBe(150);
    const report = await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key), chains });
    expect(report.ok).toBe(true);
    expect(report.receipts).toBe(150);
    expect(report.entries).toBeLessThan(150); // batched
    // Every (writer, n) pair is stored exactly once, at the id its writer was told.
    const seen = new Map<string, string>();
    for (const chain of chains) {
      for await (const rec of rig.store.listEntries(chain)) {
        (rec.body['receipts'] as string[]).forEach((leaf, i) => {
          const r = JSON.parse(leaf) as { data: { w: number; n: number } };
          const k = `${r.data.w}/${r.data.n}`;
          expect(seen.has(k)).toBe(false);
          seen.set(k, `${rec.id}:${String(i).padStart(3, '0')}`);
        });
      }
    }
    expect(seen.size).toBe(150);
    instances.forEach((_, w) => written.slice(w * 30, w * 30 + 30).forEach((r, n) => expect(seen.get(`${w}/${n}`)).toBe(r.id)));
  });

  it('signs checkpoints over the tree head at every multiple of checkpointEvery, and one on demand', async () => {
    const rig = auditRig();
    const a = rig.appender({ checkpointEvery: 4 });
    let last: AppendedReceipt | undefined;
    for (let i = 1; i <= 10; i += 1) last = await a.appendToChain('audit-01', input(i));
    await a.whenIdle();
    const cps: Record<string, unknown>[] = [];
    for await (const cp of rig.store.listCheckpoints('audit-01')) cps.push(cp.body);
    expect(cps.map((c) => c['id'])).toEqual(['audit-01:ckpt:000000000004', 'audit-01:ckpt:000000000008']);
    const four = await rig.store.readEntry('audit-01', 4);
    expect(cps[0]).toMatchObject({ v: 2, hash: four?.body['hash'], treeHead: four?.body['treeHead'], size: 1 });
    const onDemand = await a.checkpoint('audit-01');
    expect(onDemand).toMatchObject({ seq: 10, hash: last?.entryHash, treeHead: last?.treeHead, size: 1 });
    const report = await verifyChain(rig.store, 'audit-01', { trustedKeys: keysOf(rig.key) });
    expect(report.validCheckpoints).toBe(3);
    expect(report.lastCheckpoint?.seq).toBe(10);
    expect(await a.checkpoint('audit-02')).toBeUndefined();
  });

  it('refuses an on-demand checkpoint without a signer', async () => {
    const rig = auditRig();
    const a = new ReceiptAppender(rig.store, { clock: rig.clock });
    await a.appendToChain('audit-00', input(1));
    expect(await settledCode(a.checkpoint('audit-00'))).toBe('CONFIG_INVALID');
  });

  it('a cold instance finds the tip from the hint, and by query when the hint is gone', async () => {
    const rig = auditRig();
    const first = rig.appender({ headHintEvery: 4 });
    for (let i = 1; i <= 6; i += 1) await first.appendToChain('audit-00', input(i));
    await first.whenIdle();
    expect((await rig.store.readHeadHint('audit-00'))?.hint.seq).toBe(4);
    expect((await rig.appender().appendToChain('audit-00', input(7))).seq).toBe(7);
    await rig.mem.documents.delete('audit-00', 'audit-00:head');
    const r = await rig.appender().appendToChain('audit-00', input(8));
    expect(r.seq).toBe(8);
    const seven = await rig.store.readEntry('audit-00', 7);
    expect((await rig.store.readEntry('audit-00', 8))?.body['previousHash']).toBe(seven?.body['hash']);
  });

  it('gives up with AUDIT_APPEND_CONTENDED after maxAttempts lost races, leaving the chain intact', async () => {
    const rig = auditRig();
    const competitor = rig.appender();
    const victim = rig.appender({ maxAttempts: 3 }, racingStore(rig.store, async () => {
      await competitor.appendToChain('audit-00', input(0, 'competitor'));
    }));
    expect(await settledCode(victim.appendToChain('audit-00', input(1)))).toBe('AUDIT_APPEND_CONTENDED');
    const report = await verifyChain(rig.store, 'audit-00', { trustedKeys: keysOf(rig.key) });
    expect(report.break).toBeUndefined();
    expect(report.receipts).toBe(3);
  });

  it('passes store failures through, forgets the cached tip, and recovers on the next append', async () => {
    const rig = auditRig();
    let fail = false;
    const flaky = racingStore(rig.store, async () => {
      if (fail) throw new KarsError('STORE_UNAVAILABLE', 'down');
    });
    const a = rig.appender({}, flaky);
    await a.appendToChain('audit-00', input(1));
    await rig.appender().appendToChain('audit-00', input(2)); // another instance moves the tip
    fail = true;
    expect(await settledCode(a.appendToChain('audit-00', input(3)))).toBe('STORE_UNAVAILABLE');
    fail = false;
    expect((await a.appendToChain('audit-00', input(3))).seq).toBe(3);
  });

  it('commits the batch even when checkpoint signing or the hint update fails, and logs the code', async () => {
    const rig = auditRig();
    const logger = recordingLogger();
    const brokenHints = overrideStore(rig.store, {
      writeHeadHint: async () => { throw new KarsError('STORE_UNAVAILABLE', 'down'); },
    });
    const a = new ReceiptAppender(brokenHints, {
      clock: rig.clock, checkpointEvery: 1, logger,
      signer: { sign: async () => { throw new KarsError('SECRET_UNAVAILABLE', 'vault down'); } },
    });
    const r = await a.appendToChain('audit-00', input(1));
    expect((await rig.store.readEntry('audit-00', 1))?.body['hash']).toBe(r.entryHash);
    await a.whenIdle();
    expect(logger.events.map((e) => [e.event, e.fields?.code])).toEqual(expect.arrayContaining([
      ['audit.checkpoint_failed', 'SECRET_UNAVAILABLE'], ['audit.head_hint_failed', 'STORE_UNAVAILABLE'],
    ]));
  });

  it('refuses a non-canonical payload before touching the store', async () => {
    const rig = auditRig();
    const a = rig.appender();
    expect(await settledCode(a.appendToChain('audit-00', { ...input(1), data: { latency: 1.5 } }))).toBe('INPUT_INVALID');
    expect(rig.mem.documents._size()).toBe(0);
  });

  it('stops with AUDIT_CHAIN_BROKEN rather than link onto a malformed tip', async () => {
    const rig = auditRig();
    await rig.appender().appendToChain('audit-00', input(1));
    const stored = await rig.mem.documents.read('audit-00', entryId('audit-00', 1));
    await rig.mem.documents.replace('audit-00', { ...stored!.doc, hash: 'not-a-hash' }, { ifMatch: stored!.etag });
    expect(await settledCode(rig.appender().appendToChain('audit-00', input(2)))).toBe('AUDIT_CHAIN_BROKEN');
  });

  it('spreads one process\'s load: appends to different chains do not wait for each other', async () => {
    const rig = auditRig();
    const a = rig.appender();
    const chains = chainNames({ prefix: 'audit', count: 4 });
    const written = await Promise.all(chains.flatMap((c) => [1, 2, 3].map((n) => a.appendToChain(c, input(n)))));
    // Issued in one turn: each chain's three receipts share its first entry.
    for (const c of chains) expect(written.filter((r) => r.chain === c).map((r) => [r.seq, r.index])).toEqual([[1, 0], [1, 1], [1, 2]]);
  });

  it('migration: continues a chain of one-receipt entries (version 1) and the whole chain verifies', async () => {
    const rig = auditRig();
    let previous = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq += 1) {
      const legacy = _buildLegacyReceipt('audit-00', seq - 1, previous, 1_600_000_000_000 + seq, input(seq));
      await rig.store.createEntry(legacy);
      previous = legacy.hash;
    }
    // A checkpoint of version 1, as the appender signed it before batching.
    await rig.store.createCheckpoint(signCheckpoint(rig.key.privateKey, { chain: 'audit-00', seq: 3, hash: previous, timeMs: 1 }));
    const a = rig.appender();
    const next = await Promise.all([4, 5].map((n) => a.appendToChain('audit-00', input(n))));
    expect(next.map((r) => r.id)).toEqual(['audit-00:000000000004:000', 'audit-00:000000000004:001']);
    expect((await rig.store.readEntry('audit-00', 4))?.body['previousHash']).toBe(previous);
    await a.checkpoint('audit-00');
    const report = await verifyChain(rig.store, 'audit-00', { trustedKeys: keysOf(rig.key) });
    expect(report).toMatchObject({ receipts: 5, entries: 4, validCheckpoints: 2 });
    expect(report.break).toBeUndefined();
  });

  it('back-pressure: while the chain store is stuck, receipts past the per-chain bound fail at once with AUDIT_BACKLOG_FULL', async () => {
    const rig = auditRig();
    const held = heldStore(rig.store);
    const a = rig.appender({ maxQueuedPerChain: 4 }, held.store);
    const inFlight = a.append(input(0));
    while (held.waiting() === 0) await new Promise((r) => setImmediate(r));
    const queued = [1, 2, 3, 4].map((n) => a.append(input(n)));
    // The 6th receipt for the chain: 1 in the stuck write, 4 waiting.
    expect(await settledCode(a.append(input(5)))).toBe('AUDIT_BACKLOG_FULL');
    // Another subject's chain has its own room.
    const other = a.append(input(6, 'tenant-zz'));
    // The store recovers: every accepted receipt is written.
    const all = Promise.all([inFlight, ...queued, other]);
    let done = false;
    void all.then(() => { done = true; });
    while (!done) {
      held.release();
      await new Promise((r) => setImmediate(r));
    }
    expect(await all).toHaveLength(6);
  });
});
