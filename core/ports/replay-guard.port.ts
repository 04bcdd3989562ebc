// Replay store (T1-S): a delivery key is claimed once; a second claim before it expires is a replay. Implementations
// must hold across instances and restarts (create-if-absent in a shared store), not in process memory.

export type ReplayClaim =
  | {
      readonly status: 'fresh';
      /**
       * Gives the key back (best effort) after a retryable failure further down (429, bus down), so the sender's retry
       * of the same delivery is not refused as a replay. Only removes the claim this call made.
       */
      release(): Promise<void>;
    }
  | { readonly status: 'replayed' };

export interface ReplayGuardOptions {
  abortSignal?: AbortSignal;
}

export interface ReplayGuard {
  /**
   * Claims `key` until `expiresAtMs`. An expired earlier claim counts as absent.
   * @throws KarsError STORE_UNAVAILABLE
   */
  claim(key: string, expiresAtMs: number, nowMs: number, options?: ReplayGuardOptions): Promise<ReplayClaim>;
}
