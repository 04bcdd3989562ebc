// ReplayGuard over the DocumentStore (T1-S): a claim is a create-if-absent of a small document with `expiresAtMs`, so
// it holds across Function instances and restarts; an expired claim counts as absent (the store's rule), and in Azure
// the item TTL purges it.
import { sha256Hex } from '../../core/crypto/sha256-hex';
import { isKarsError } from '../../core/errors';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { ReplayClaim, ReplayGuard } from '../../core/ports/replay-guard.port';

/** Document id (and partition) of a key: a digest, because delivery ids may hold characters Cosmos refuses in ids. */
export function replayDocumentId(key: string): string {
  return sha256Hex(key);
}

export function createDocumentReplayGuard(store: DocumentStore): ReplayGuard {
  return {
    async claim(key, expiresAtMs, _nowMs, options): Promise<ReplayClaim> {
      const id = replayDocumentId(key);
      let etag: string;
      try {
        ({ etag } = await store.create(id, { id, kind: 'replay-claim', expiresAtMs }, { abortSignal: options?.abortSignal }));
      } catch (e) {
        if (isKarsError(e) && e.code === 'STORE_CONFLICT') return { status: 'replayed' };
        throw e;
      }
      return {
        status: 'fresh',
        async release() {
          try {
            // If-Match: only the claim this call made; a newer claim by someone else stays.
            await store.delete(id, id, { ifMatch: etag });
          } catch (e) {
            if (!(isKarsError(e) && e.code === 'STORE_PRECONDITION_FAILED')) throw e;
          }
        },
      };
    },
  };
}
