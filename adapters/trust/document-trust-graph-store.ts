// TrustGraphStore and TrustGraphSource over the DocumentStore (Cosmos): the tenant's projection is one document,
// replaced with If-Match, so two appliers never lose each other's update and a reader sees one whole version.
import type { DocumentBody, DocumentStore } from '../../core/ports/document-store.port';
import type { StoredTrustGraph, TrustGraphSource, TrustGraphStore } from '../../core/ports/trust-graph-store.port';
import { emptyTrustGraph, type TrustGraphProjection } from '../../core/trust/trust-graph';

const GRAPH_ID = 'graph';

interface GraphDocument extends DocumentBody {
  id: typeof GRAPH_ID;
  kind: 'trust-graph';
  graph: TrustGraphProjection;
  appliedNonces: string[];
}

export function createDocumentTrustGraphStore(store: DocumentStore): TrustGraphStore & TrustGraphSource {
  const load: TrustGraphStore['load'] = async (tenantId) => {
    const found = await store.read<GraphDocument>(tenantId, GRAPH_ID);
    if (!found) return undefined;
    return { stored: { graph: found.doc.graph, appliedNonces: found.doc.appliedNonces }, etag: found.etag };
  };
  return {
    load,
    async save(next: StoredTrustGraph, ifMatch) {
      const doc: GraphDocument = { id: GRAPH_ID, kind: 'trust-graph', graph: next.graph, appliedNonces: [...next.appliedNonces] };
      if (ifMatch === undefined) await store.create(next.graph.tenantId, doc);
      else await store.replace(next.graph.tenantId, doc, { ifMatch });
    },
    async read(tenantId, sinceVersion) {
      const graph = (await load(tenantId))?.stored.graph ?? emptyTrustGraph(tenantId);
      return graph.version > sinceVersion ? { changed: true, graph } : { changed: false, version: graph.version };
    },
  };
}
