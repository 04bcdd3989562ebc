// Contract every DocumentStore adapter must pass (memory, Cosmos via the real SDK): same results, same codes, same limits.
import { describe, expect, it } from 'vitest';
import type { DocumentBody, DocumentQuery, DocumentStore } from '../../core/ports/document-store.port';
import { settledCode } from '../support/settled-code';

export interface ContractClock {
  nowMs(): number;
  advance(ms: number): void;
}

export interface DocumentStoreUnderTest {
  store: DocumentStore;
  cleanup?: () => Promise<void>;
}

/** Builds a fresh, empty store reading time from `clock`. */
export type MakeDocumentStore = (clock: ContractClock) => Promise<DocumentStoreUnderTest>;

function contractClock(): ContractClock {
  let now = 1_800_000_000_000;
  return { nowMs: () => now, advance: (ms) => { now += ms; } };
}

async function allPages(store: DocumentStore, pk: string, q: DocumentQuery, pageSize: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.query(pk, q, { pageSize, ...(token !== undefined ? { continuationToken: token } : {}) });
    ids.push(...page.items.map((i) => i.doc.id));
    token = page.continuationToken;
    pages += 1;
  } while (token !== undefined && pages < 100);
  return { ids, pages };
}

export function describeDocumentStoreContract(label: string, make: MakeDocumentStore): void {
  describe(`DocumentStore contract: ${label}`, () => {
    async function withStore(body: (s: DocumentStore, clock: ContractClock) => Promise<void>): Promise<void> {
      const clock = contractClock();
      const { store, cleanup } = await make(clock);
      try {
        await body(store, clock);
      } finally {
        await cleanup?.();
      }
    }

    it('creates, reads back exactly the document (no store fields), and refuses a duplicate id', () => withStore(async (s) => {
      expect(await s.read('p1', 'a')).toBeUndefined();
      const doc = { id: 'a', n: 1, nested: { list: [1, 'x', null, true] } };
      const { etag } = await s.create('p1', doc);
      expect(typeof etag).toBe('string');
      expect(await s.read('p1', 'a')).toEqual({ doc, etag });
      expect(await settledCode(s.create('p1', { id: 'a', n: 2 }))).toBe('STORE_CONFLICT');
      await s.create('p2', { id: 'a', n: 3 }); // ids are unique per partition only
      expect((await s.read('p1', 'a'))?.doc['n']).toBe(1);
      expect((await s.read('p2', 'a'))?.doc['n']).toBe(3);
    }));

    it('stores a copy: mutating the caller\'s object afterwards changes nothing', () => withStore(async (s) => {
      const doc: DocumentBody = { id: 'c', list: [1] };
      await s.create('p', doc);
      (doc['list'] as number[]).push(2);
      expect((await s.read('p', 'c'))?.doc['list']).toEqual([1]);
    }));

    it('replaces only with the current etag', () => withStore(async (s) => {
      const { etag: e1 } = await s.create('p', { id: 'r', v: 1 });
      const { etag: e2 } = await s.replace('p', { id: 'r', v: 2 }, { ifMatch: e1 });
      expect(e2).not.toBe(e1);
      expect(await settledCode(s.replace('p', { id: 'r', v: 3 }, { ifMatch: e1 }))).toBe('STORE_PRECONDITION_FAILED');
      expect((await s.read('p', 'r'))?.doc['v']).toBe(2);
      expect(await settledCode(s.replace('p', { id: 'missing', v: 1 }, { ifMatch: e2 }))).toBe('STORE_NOT_FOUND');
      expect(await settledCode(s.replace('p', { id: 'r', v: 4 }, {} as never))).toBe('INPUT_INVALID');
    }));

    it('lets exactly one of many concurrent writers win a create or an etag-guarded replace', () => withStore(async (s) => {
      const creates = await Promise.all(Array.from({ length: 8 }, (_, i) => settledCode(s.create('p', { id: 'race', w: i }))));
      expect(creates.filter((c) => c === 'resolved')).toHaveLength(1);
      expect(creates.filter((c) => c === 'STORE_CONFLICT')).toHaveLength(7);
      const { etag } = (await s.read('p', 'race'))!;
      const replaces = await Promise.all(Array.from({ length: 8 }, (_, i) => settledCode(s.replace('p', { id: 'race', w: 100 + i }, { ifMatch: etag }))));
      expect(replaces.filter((c) => c === 'resolved')).toHaveLength(1);
      expect(replaces.filter((c) => c === 'STORE_PRECONDITION_FAILED')).toHaveLength(7);
    }));

    it('upserts: creates, then overwrites with a new etag', () => withStore(async (s) => {
      const { etag: e1 } = await s.upsert('p', { id: 'u', v: 1 });
      const { etag: e2 } = await s.upsert('p', { id: 'u', v: 2 });
      expect(e2).not.toBe(e1);
      expect(await s.read('p', 'u')).toEqual({ doc: { id: 'u', v: 2 }, etag: e2 });
    }));

    it('deletes, honouring ifMatch, and reports whether anything was removed', () => withStore(async (s) => {
      const { etag } = await s.create('p', { id: 'd' });
      expect(await settledCode(s.delete('p', 'd', { ifMatch: 'stale-etag' }))).toBe('STORE_PRECONDITION_FAILED');
      expect(await s.read('p', 'd')).toBeDefined();
      expect(await s.delete('p', 'd', { ifMatch: etag })).toBe(true);
      expect(await s.delete('p', 'd')).toBe(false);
      expect(await s.read('p', 'd')).toBeUndefined();
    }));

    it('treats a document as absent once expiresAtMs has passed (reads, queries, create, replace)', () => withStore(async (s, clock) => {
      const expiresAtMs = clock.nowMs() + 60_000;
      const { etag } = await s.create('p', { id: 'e', kind: 'lease', expiresAtMs });
      await s.create('p', { id: 'keep', kind: 'lease' });
      expect((await s.read('p', 'e'))?.doc['expiresAtMs']).toBe(expiresAtMs);
      clock.advance(60_000);
      expect(await s.read('p', 'e')).toBeUndefined();
      const page = await s.query('p', { where: [{ field: 'kind', op: '=', value: 'lease' }] });
      expect(page.items.map((i) => i.doc.id)).toEqual(['keep']);
      expect(await settledCode(s.replace('p', { id: 'e', kind: 'lease' }, { ifMatch: etag }))).toBe('STORE_NOT_FOUND');
      await s.create('p', { id: 'e', kind: 'lease', generation: 2 });
      expect((await s.read('p', 'e'))?.doc['generation']).toBe(2);
    }));

    it('queries one partition with equality and range filters, bound as parameters', () => withStore(async (s) => {
      for (let i = 0; i < 12; i += 1) {
        await s.create('q', { id: `d${String(i).padStart(2, '0')}`, n: i, tag: i % 3 === 0 ? 'x' : 'y', value: i % 2, meta: { order: 11 - i } });
      }
      await s.create('q', { id: 'str', n: '5', tag: 'x' }); // a string never compares with a number
      await s.create('q', { id: 'none', tag: 'x' });
      await s.create('other', { id: 'd00', n: 0, tag: 'x' });
      const ids = async (q: DocumentQuery) => (await s.query('q', q)).items.map((i) => i.doc.id).sort();
      expect(await ids({ where: [{ field: 'tag', op: '=', value: 'x' }, { field: 'n', op: '>=', value: 3 }] })).toEqual(['d03', 'd06', 'd09']);
      expect(await ids({ where: [{ field: 'n', op: '<', value: 2 }] })).toEqual(['d00', 'd01']);
      expect(await ids({ where: [{ field: 'n', op: '<=', value: 1 }] })).toEqual(['d00', 'd01']);
      expect(await ids({ where: [{ field: 'n', op: '>', value: 10 }] })).toEqual(['d11']);
      expect(await ids({ where: [{ field: 'n', op: '!=', value: 5 }, { field: 'n', op: '<', value: 7 }] })).toEqual(['d00', 'd01', 'd02', 'd03', 'd04', 'd06']);
      expect(await ids({ where: [{ field: 'n', op: '=', value: '5' }] })).toEqual(['str']);
      expect(await ids({ where: [{ field: 'value', op: '=', value: 1 }, { field: 'meta.order', op: '<', value: 4 }] })).toEqual(['d09', 'd11']);
      expect(await ids({ where: [{ field: 'missing', op: '!=', value: 1 }] })).toEqual([]);
      expect(await ids({ where: [{ field: 'id', op: '>', value: 'd10' }] })).toEqual(['d11', 'none', 'str']);
    }));

    it('orders by one field, leaves out documents without it, applies TOP, and pages with continuation tokens', () => withStore(async (s) => {
      const ns = [5, 3, 9, 1, 7, 2, 8, 0, 6, 4];
      for (const n of ns) await s.create('o', { id: `k${n}`, n, kind: 'item' });
      await s.create('o', { id: 'no-n', kind: 'item' });
      const asc = await allPages(s, 'o', { where: [{ field: 'kind', op: '=', value: 'item' }], orderBy: { field: 'n' } }, 3);
      expect(asc.ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `k${n}`));
      expect(asc.pages).toBeGreaterThanOrEqual(4);
      const desc = await allPages(s, 'o', { orderBy: { field: 'n', direction: 'desc' }, top: 4 }, 3);
      expect(desc.ids).toEqual(['k9', 'k8', 'k7', 'k6']);
      const byId = await allPages(s, 'o', { orderBy: { field: 'id', direction: 'asc' } }, 4);
      expect(byId.ids).toEqual([...ns.map((n) => `k${n}`), 'no-n'].sort());
      const top1 = await s.query('o', { orderBy: { field: 'n', direction: 'desc' }, top: 1 }, { pageSize: 1 });
      expect(top1.items.map((i) => i.doc.id)).toEqual(['k9']);
      expect(typeof top1.items[0]?.etag).toBe('string');
    }));

    it('refuses malformed arguments with INPUT_INVALID before any I/O', () => withStore(async (s) => {
      const bad: Promise<unknown>[] = [
        s.create('p', { id: 'x', pk: 'other' }),
        s.create('p', { id: 'x', ttl: 5 }),
        s.create('p', { id: 'x', _etag: 'forged' }),
        s.create('p', { id: 'a/b' }),
        s.create('p', { id: 'a#b' }),
        s.create('p', { id: '' }),
        s.create('p', { id: ' padded' }),
        s.create('p', { id: 'x'.repeat(256) }),
        s.create('p', { id: 'x', expiresAtMs: 1.5 }),
        s.create('', { id: 'x' }),
        s.read('p', 'a?b'),
        s.query('p', { where: [{ field: 'a..b', op: '=', value: 1 }] }),
        s.query('p', { where: [{ field: 'x"] OR 1=1 --', op: '=', value: 1 }] }),
        s.query('p', { where: [{ field: 'pk', op: '=', value: 'other' }] }),
        s.query('p', { where: [{ field: 'n', op: 'LIKE' as never, value: 1 }] }),
        s.query('p', { where: [{ field: 'n', op: '=', value: { $gt: 1 } as never }] }),
        s.query('p', { where: [{ field: 'n', op: '=', value: Number.NaN }] }),
        s.query('p', { orderBy: { field: 'n', direction: 'sideways' as never } }),
        s.query('p', { top: 0 }),
        s.query('p', {}, { pageSize: 0 }),
        s.query('p', {}, { pageSize: 100_000 }),
      ];
      for (const p of bad) expect(await settledCode(p)).toBe('INPUT_INVALID');
    }));
  });
}
