// T4-E / RR2: the TrustGraph projection of one tenant, the versioned read model routers consume: every observer
// sandbox's score of every subject DID, and the signed endorsement edges between DIDs.

export interface TrustScoreEntry {
  /** Sandbox id of the observer. */
  readonly observer: string;
  /** DID of the scored peer. */
  readonly subject: string;
  readonly score: number;
  /** Time of the last signal (epoch ms); decay runs from here. */
  readonly atMs: number;
}

export interface TrustEdge {
  /** DID of the endorser. */
  readonly from: string;
  /** DID of the endorsed peer. */
  readonly to: string;
  /** 0..1000; an edge with weight 0 is removed. */
  readonly weight: number;
  readonly atMs: number;
}

export interface TrustGraphProjection {
  readonly tenantId: string;
  /** Strictly increases with every applied batch; a reader asks for changes since the version it holds. */
  readonly version: number;
  readonly scores: readonly TrustScoreEntry[];
  readonly edges: readonly TrustEdge[];
}

export function emptyTrustGraph(tenantId: string): TrustGraphProjection {
  return { tenantId, version: 0, scores: [], edges: [] };
}

/** Lookup maps over a projection, built once per computation. */
export interface TrustGraphIndex {
  /** observer → subject → score */
  readonly scores: ReadonlyMap<string, ReadonlyMap<string, TrustScoreEntry>>;
  /** from → outgoing edges */
  readonly edges: ReadonlyMap<string, readonly TrustEdge[]>;
}

export function indexTrustGraph(graph: Pick<TrustGraphProjection, 'scores' | 'edges'>): TrustGraphIndex {
  const scores = new Map<string, Map<string, TrustScoreEntry>>();
  for (const s of graph.scores) {
    let m = scores.get(s.observer);
    if (!m) scores.set(s.observer, (m = new Map()));
    m.set(s.subject, s);
  }
  const edges = new Map<string, TrustEdge[]>();
  for (const e of graph.edges) {
    let list = edges.get(e.from);
    if (!list) edges.set(e.from, (list = []));
    list.push(e);
  }
  return { scores, edges };
}
