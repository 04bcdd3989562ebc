// Paged reads of a TrustGraph projection (the operator console draws large graphs a page at a time): one stable order
// over nodes (sandboxes and DIDs), then scores, then edges, cut into pages of at most `limit` items. The cursor pins
// the version it was cut from: when the projection has moved on, the next page is refused (STORE_PRECONDITION_FAILED)
// and the reader starts again, so a page set never mixes two versions.
import { z } from 'zod';
import { KarsError } from '../errors';
import type { TrustEdge, TrustGraphProjection, TrustScoreEntry } from './trust-graph';

export const TRUST_GRAPH_PAGE_MAX = 1000;
export const TRUST_GRAPH_PAGE_DEFAULT = 200;

export interface TrustGraphNode {
  readonly id: string;
  /** Observers are sandboxes; subjects and endorsement ends are DIDs. */
  readonly kind: 'sandbox' | 'did';
}

export interface TrustGraphPage {
  readonly changed: true;
  readonly tenantId: string;
  readonly version: number;
  readonly nodes: readonly TrustGraphNode[];
  readonly scores: readonly TrustScoreEntry[];
  readonly edges: readonly TrustEdge[];
  /** Opaque; null on the last page. */
  readonly nextCursor: string | null;
}

const cursorSchema = z.strictObject({ v: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), o: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
export const TRUST_GRAPH_CURSOR_RE = /^[A-Za-z0-9_-]{1,64}$/;

const byKey = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function encodeCursor(version: number, offset: number): string {
  return Buffer.from(JSON.stringify({ v: version, o: offset }), 'utf8').toString('base64url');
}

/** @throws KarsError INPUT_INVALID for a cursor this code did not issue */
function decodeCursor(cursor: string): { v: number; o: number } {
  if (!TRUST_GRAPH_CURSOR_RE.test(cursor)) throw new KarsError('INPUT_INVALID', 'invalid cursor');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new KarsError('INPUT_INVALID', 'invalid cursor');
  }
  const parsed = cursorSchema.safeParse(raw);
  if (!parsed.success) throw new KarsError('INPUT_INVALID', 'invalid cursor');
  return parsed.data;
}

/**
 * One page of the projection.
 * @throws KarsError INPUT_INVALID (cursor not issued here, or past the end) | STORE_PRECONDITION_FAILED (the
 *   projection moved since the cursor was issued: start again without one)
 */
export function pageTrustGraph(graph: TrustGraphProjection, limit: number, cursor: string | undefined): TrustGraphPage {
  let offset = 0;
  if (cursor !== undefined) {
    const c = decodeCursor(cursor);
    if (c.v !== graph.version) throw new KarsError('STORE_PRECONDITION_FAILED', 'the trust graph changed since the cursor was issued');
    offset = c.o;
  }
  const kinds = new Map<string, TrustGraphNode['kind']>();
  for (const s of graph.scores) kinds.set(s.observer, 'sandbox');
  for (const s of graph.scores) if (!kinds.has(s.subject)) kinds.set(s.subject, 'did');
  for (const e of graph.edges) for (const id of [e.from, e.to]) if (!kinds.has(id)) kinds.set(id, 'did');
  const nodes = [...kinds].map(([id, kind]) => ({ id, kind })).sort(byKey((n) => n.id));
  const scores = [...graph.scores].sort(byKey((s) => `${s.observer}\n${s.subject}`));
  const edges = [...graph.edges].sort(byKey((e) => `${e.from}\n${e.to}`));
  const total = nodes.length + scores.length + edges.length;
  if (offset > total) throw new KarsError('INPUT_INVALID', 'invalid cursor');
  const end = Math.min(total, offset + limit);
  const slice = <T>(list: readonly T[], start: number): T[] => list.slice(Math.max(0, offset - start), Math.max(0, end - start));
  return {
    changed: true,
    tenantId: graph.tenantId,
    version: graph.version,
    nodes: slice(nodes, 0),
    scores: slice(scores, nodes.length),
    edges: slice(edges, nodes.length + scores.length),
    nextCursor: end < total ? encodeCursor(graph.version, end) : null,
  };
}
