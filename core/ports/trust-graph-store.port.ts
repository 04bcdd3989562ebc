// T4-E / RR2: where the TrustGraph projection of each tenant lives (one versioned document, replaced with ETags, so
// concurrent appliers never lose each other's updates and every reader sees one consistent version).
import type { TrustGraphProjection } from '../trust/trust-graph';

export interface StoredTrustGraph {
  readonly graph: TrustGraphProjection;
  /** Nonces of the most recently applied updates: a redelivered bus message is applied once. */
  readonly appliedNonces: readonly string[];
}

export interface TrustGraphStore {
  /** @returns undefined when the tenant has no graph yet. @throws KarsError STORE_UNAVAILABLE */
  load(tenantId: string): Promise<{ stored: StoredTrustGraph; etag: string } | undefined>;
  /**
   * Writes the next version: creates when `ifMatch` is undefined, else replaces only that version.
   * @throws KarsError STORE_CONFLICT (created concurrently) | STORE_PRECONDITION_FAILED (replaced concurrently) |
   *   STORE_UNAVAILABLE
   */
  save(next: StoredTrustGraph, ifMatch: string | undefined): Promise<void>;
}

/** What a router consumes (RR2): the projection when it changed since the version the router holds. */
export type TrustGraphRead = { readonly changed: false; readonly version: number } | { readonly changed: true; readonly graph: TrustGraphProjection };

export interface TrustGraphSource {
  /** @throws KarsError STORE_UNAVAILABLE */
  read(tenantId: string, sinceVersion: number): Promise<TrustGraphRead>;
}
