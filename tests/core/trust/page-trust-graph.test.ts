// Paged TrustGraph reads (operator console): every node, score and edge exactly once over the pages in one stable
// order, pages never above the limit, a cursor pinned to its version, a forged cursor refused; and the route keeps
// its unpaged answer when neither `limit` nor `cursor` is given.
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageTrustGraph } from '../../../core/trust/page-trust-graph';
import type { TrustGraphProjection } from '../../../core/trust/trust-graph';
import { getTrustGraphHandler } from '../../../functions/trust/get-trust-graph';
import type { TrustRouteDeps } from '../../../functions/trust/trust-route-deps';
import { silentLogger } from '../../../core/ports/logger.port';
import { assertProperty } from '../../support/property';

const sandbox = fc.constantFrom('sb-a', 'sb-b', 'sb-c');
const did = fc.constantFrom('did:web:a', 'did:web:b', 'did:web:c', 'did:web:d', 'did:mesh:e');
const graphArb = fc.record({
  version: fc.nat({ max: 1000 }),
  scores: fc.uniqueArray(fc.record({ observer: sandbox, subject: did, score: fc.nat({ max: 1000 }), atMs: fc.nat() }), { selector: (s) => `${s.observer}|${s.subject}`, maxLength: 15 }),
  edges: fc.uniqueArray(fc.record({ from: did, to: did, weight: fc.integer({ min: 1, max: 1000 }), atMs: fc.nat() }), { selector: (e) => `${e.from}|${e.to}`, maxLength: 20 }),
}).map((g): TrustGraphProjection => ({ tenantId: 't1', ...g }));

function allPages(graph: TrustGraphProjection, limit: number) {
  const pages = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = pageTrustGraph(graph, limit, cursor);
    pages.push(page);
    if (page.nextCursor === null) return pages;
    cursor = page.nextCursor;
  }
  throw new Error('paging never ended');
}

describe('pageTrustGraph', () => {
  it('pages hold every node, score and edge exactly once, at most `limit` items each', () => {
    assertProperty(fc.property(graphArb, fc.integer({ min: 1, max: 12 }), (graph, limit) => {
      const pages = allPages(graph, limit);
      for (const p of pages) expect(p.nodes.length + p.scores.length + p.edges.length).toBeLessThanOrEqual(limit);
      const whole = pageTrustGraph(graph, 1000, undefined);
      expect(whole.nextCursor).toBeNull();
      expect(pages.flatMap((p) => p.nodes)).toEqual(whole.nodes);
      expect(pages.flatMap((p) => p.scores)).toEqual(whole.scores);
      expect(pages.flatMap((p) => p.edges)).toEqual(whole.edges);
      expect(new Set(whole.scores)).toEqual(new Set(graph.scores));
      expect(new Set(whole.edges)).toEqual(new Set(graph.edges));
      const ids = new Set([...graph.scores.flatMap((s) => [s.observer, s.subject]), ...graph.edges.flatMap((e) => [e.from, e.to])]);
      expect(new Set(whole.nodes.map((n) => n.id))).toEqual(ids);
      for (const n of whole.nodes) expect(n.kind).toBe(n.id.startsWith('did:') ? 'did' : 'sandbox');
    }));
  });

  it('a cursor of another version is refused (412), a forged or out-of-range cursor is INPUT_INVALID', () => {
    const graph: TrustGraphProjection = { tenantId: 't1', version: 3, scores: [], edges: [
      { from: 'did:web:a', to: 'did:web:b', weight: 500, atMs: 0 }, { from: 'did:web:b', to: 'did:web:c', weight: 500, atMs: 0 },
    ] };
    const first = pageTrustGraph(graph, 2, undefined);
    expect(first.nodes.map((n) => n.id)).toEqual(['did:web:a', 'did:web:b']);
    expect(() => pageTrustGraph({ ...graph, version: 4 }, 2, first.nextCursor!)).toThrow(expect.objectContaining({ code: 'STORE_PRECONDITION_FAILED' }));
    const forged = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const bad of ['!!', forged({ v: 3, o: 99 }), forged({ v: 3, o: 0 }), forged({ v: 3, o: 1, x: 1 }), forged([1]), 'bm90LWpzb24']) {
      expect(() => pageTrustGraph(graph, 2, bad), bad).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    }
  });
});

describe('GET /api/trust/graph paging', () => {
  const graph: TrustGraphProjection = { tenantId: 't1', version: 2, scores: [{ observer: 'sb-a', subject: 'did:web:a', score: 400, atMs: 0 }], edges: [{ from: 'did:web:a', to: 'did:web:b', weight: 700, atMs: 0 }] };
  const deps = {
    graphs: { read: async (_t: string, since: number) => (graph.version > since ? { changed: true as const, graph } : { changed: false as const, version: graph.version }) },
    logger: silentLogger,
  } as unknown as TrustRouteDeps;
  const get = async (query: string): Promise<HttpResponseInit> =>
    (await getTrustGraphHandler(async () => deps)(new HttpRequest({ method: 'GET', url: `http://local/api/trust/graph?${query}` }), new InvocationContext())) as HttpResponseInit;

  it('answers the whole projection without limit or cursor, as before', async () => {
    expect((await get('tenant=t1')).jsonBody).toEqual({ changed: true, graph });
    expect((await get('tenant=t1&since=2')).jsonBody).toEqual({ changed: false, version: 2 });
  });

  it('pages with limit and cursor', async () => {
    const first = await get('tenant=t1&limit=2');
    expect(first.jsonBody).toMatchObject({ changed: true, version: 2, nodes: [{ id: 'did:web:a', kind: 'did' }, { id: 'did:web:b', kind: 'did' }], scores: [], edges: [] });
    const next = (first.jsonBody as { nextCursor: string }).nextCursor;
    const second = await get(`tenant=t1&limit=2&cursor=${next}`);
    expect(second.jsonBody).toMatchObject({ nodes: [{ id: 'sb-a', kind: 'sandbox' }], scores: graph.scores, edges: [] });
    const third = await get(`tenant=t1&limit=2&cursor=${(second.jsonBody as { nextCursor: string }).nextCursor}`);
    expect(third.jsonBody).toMatchObject({ nodes: [], scores: [], edges: graph.edges, nextCursor: null });
    expect((await get('tenant=t1&limit=0')).status).toBe(400);
    expect((await get('tenant=t1&limit=1001')).status).toBe(400);
    expect((await get('tenant=t1&cursor=%21%21')).status).toBe(400);
  });
});
