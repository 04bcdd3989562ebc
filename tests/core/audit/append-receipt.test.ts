// Appends: linked and gap-free, no forks when many "instances" race on one chain, checkpoints every K, failures contained.
import { describe, expect, it } from 'vitest';
import { ReceiptAppender } from '../../../core/audit/append-receipt';
import { chainNames } from '../../../core/audit/chain-select';
import { GENESIS_HASH, receiptId } from '../../../core/audit/receipt';
import type { Receipt } from '../../../core/audit/receipt';
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
  'createReceipt', 'readReceipt', 'readLastReceipt', 'listReceipts', 'readHeadHint', 'writeHeadHint', 'createCheckpoint',
  'listCheckpoints', 'registerChain', 'listChains',
] as const;

/** The real store with some methods replaced (the rest delegate, bound, since the store keeps private fields). */
function overrideStore(inner: ReceiptStore, overrides: Partial<ReceiptStore>): ReceiptStore {
  const out = {} as Record<string, unknown>;
  for (const m of STORE_METHODS) out[m] = overrides[m] ?? (inner[m] as (...a: unknown[]) => unknown).bind(inner);
  return out as unknown as ReceiptStore;
}

/** A store whose createReceipt first lets `before` run (a competitor that wins the race), then delegates. */
function racingStore(inner: ReceiptStore, before: () => Promise<void>): ReceiptStore {
  return overrideStore(inner, {
    createReceipt: async (r, o) => {
      await before();
      return inner.createReceipt(r, o);
    },
  });
}

describe('ReceiptAppender', () => {
  it('appends a linked, gap-free chain starting from the genesis hash', async () => {
    const rig = auditRig();
    const a = rig.appender();
    const out: Receipt[] = [];
    for (let i = 1; i <= 10; i += 1) {
      rig.clock.advance(1000);
      out.push(await a.appendToChain('audit-00', input(i)));
    }
    expect(out.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(out[0]?.previousHash).toBe(GENESIS_HASH);
    for (let i = 1; i < out.length; i += 1) expect(out[i]?.previousHash).toBe(out[i - 1]?.hash);
    expect(out[9]?.timeMs).toBe(1_700_000_000_000 + 10_000);
    const report = await verifyChain(rig.store, 'audit-00', { trustedKeys: keysOf(rig.key) });
    expect(report).toMatchObject({ receipts: 10, tip: { seq: 10 } });
    expect(report.break).toBeUndefined();
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
    const instances = Array.from({ length: 5 }, () => rig.appender({ checkpointEvery: 7, headHintEvery: 3 }));
    const chains = ['audit-00', 'audit-01'];
    const work = instances.flatMap((inst, w) =>
      Array.from({ length: 30 }, (_, n) => inst.appendToChain(chains[n % 2] as string, { ...input(n), data: { w, n } })));
    const written = await Promise.all(work);
    expect(new Set(written.map((r) => r.id)).size).toBe(150);
    for (const chain of chains) {
      const seqs = written.filter((r) => r.chain === chain).map((r) => r.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    }
    const report = await verifyAuditLog(rig.store, { trustedKeys: keysOf(rig.key), chains });
    expect(report.ok).toBe(true);
    expect(report.receipts).toBe(150);
    // Every (writer, n) pair is stored exactly once.
    const seen = new Set<string>();
    for (const chain of chains) {
      for await (const rec of rig.store.listReceipts(chain)) {
        const d = rec.body['data'] as { w: number; n: number };
        const k = `${d.w}/${d.n}`;
        expect(seen.has(k)).toBe(false);
        seen.add(k);
      }
    }
    expect(seen.size).toBe(150);
  });

  it('writes a signed checkpoint at every multiple of checkpointEvery and one on demand', async () => {
    const rig = auditRig();
    const a = rig.appender({ checkpointEvery: 4 });
    for (let i = 1; i <= 10; i += 1) await a.appendToChain('audit-01', input(i));
    const ids: string[] = [];
    for await (const cp of rig.store.listCheckpoints('audit-01')) ids.push(cp.id);
    expect(ids).toEqual(['audit-01:ckpt:000000000004', 'audit-01:ckpt:000000000008']);
    const onDemand = await a.checkpoint('audit-01');
    expect(onDemand?.seq).toBe(10);
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
    expect((await rig.store.readHeadHint('audit-00'))?.hint.seq).toBe(4);
    expect((await rig.appender().appendToChain('audit-00', input(7))).seq).toBe(7);
    await rig.mem.documents.delete('audit-00', 'audit-00:head');
    const r = await rig.appender().appendToChain('audit-00', input(8));
    expect(r.seq).toBe(8);
    const seven = await rig.store.readReceipt('audit-00', 7);
    expect(r.previousHash).toBe(seven?.body['hash']);
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

  it('commits the receipt even when checkpoint signing or the hint update fails, and logs the code', async () => {
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
    expect((await rig.store.readReceipt('audit-00', 1))?.body['hash']).toBe(r.hash);
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
    const stored = await rig.mem.documents.read('audit-00', receiptId('audit-00', 1));
    await rig.mem.documents.replace('audit-00', { ...stored!.doc, hash: 'not-a-hash' }, { ifMatch: stored!.etag });
    expect(await settledCode(rig.appender().appendToChain('audit-00', input(2)))).toBe('AUDIT_CHAIN_BROKEN');
  });

  it('spreads one process\'s load: appends to different chains do not wait for each other', async () => {
    const rig = auditRig();
    const a = rig.appender();
    const chains = chainNames({ prefix: 'audit', count: 4 });
    const written = await Promise.all(chains.flatMap((c) => [1, 2, 3].map((n) => a.appendToChain(c, input(n)))));
    for (const c of chains) expect(written.filter((r) => r.chain === c).map((r) => r.seq).sort()).toEqual([1, 2, 3]);
  });
});
