// TrustIssuerRegistry over the DocumentStore (Cosmos): one document per tenant listing its issuer keys. `setIssuers`
// is the operator's write (PUT /api/manage/trust/issuers/{tenantId}); a missing document means no issuer (fail closed).
import type { DocumentBody, DocumentStore } from '../../core/ports/document-store.port';
import type { TrustIssuerRegistry } from '../../core/ports/trust-issuer-registry.port';

const ISSUERS_ID = 'issuers';

interface IssuersDocument extends DocumentBody {
  id: typeof ISSUERS_ID;
  kind: 'trust-issuers';
  keys: string[];
}

export interface DocumentTrustIssuerRegistry extends TrustIssuerRegistry {
  /** Replaces the tenant's issuer list (last writer wins: an operator action). @throws KarsError STORE_UNAVAILABLE */
  setIssuers(tenantId: string, keys: readonly string[]): Promise<void>;
}

export function createDocumentTrustIssuerRegistry(store: DocumentStore): DocumentTrustIssuerRegistry {
  return {
    async allowedIssuers(tenantId, options) {
      const found = await store.read<IssuersDocument>(tenantId, ISSUERS_ID, options);
      return found?.doc.keys ?? [];
    },
    async setIssuers(tenantId, keys) {
      await store.upsert(tenantId, { id: ISSUERS_ID, kind: 'trust-issuers', keys: [...new Set(keys)] } satisfies IssuersDocument);
    },
  };
}
