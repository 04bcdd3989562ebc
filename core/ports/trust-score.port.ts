// RR2 / T4-S: what a router's KNOCK gate asks, the live trust score of a peer DID as this sandbox sees it (0–1000).
// undefined means unknown: no trust recorded, the trust plane unreachable, or an answer too old to trust. Callers
// treat it as below every threshold (fail closed).

export interface TrustScoreSource {
  /** Never throws: a failure is undefined. */
  scoreOf(did: string): Promise<number | undefined>;
}
