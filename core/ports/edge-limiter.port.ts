// Admission at the edge (T1-D): the global and per-agent rate limits and the per-tenant budget in one call, so a
// distributed implementation can answer all three in one round trip.

export type EdgeAdmission =
  | { readonly outcome: 'allowed' }
  /** A rate (global, per agent, or the tenant budget's rate) is exhausted for now: answer 429 with Retry-After. */
  | { readonly outcome: 'rate-limited'; readonly scope: 'global' | 'agent' | 'tenant'; readonly retryAfterMs: number }
  /** The tenant's quota for the period is spent: answer 403; retrying before `resetsAtMs` cannot succeed. */
  | { readonly outcome: 'quota-spent'; readonly scope: 'requests' | 'tokens'; readonly resetsAtMs?: number };

export interface EdgeLimiterOptions {
  abortSignal?: AbortSignal;
}

export interface EdgeLimiter {
  /**
   * Takes one request (and `tokens` model tokens, default 0) from the global bucket, the agent's bucket and the tenant's
   * budget, all or nothing. With `tokens` 0 a tenant whose token quota is spent is still refused.
   * @throws KarsError STORE_UNAVAILABLE (distributed implementations)
   */
  admit(tenantId: string, agentId: string, tokens?: number, options?: EdgeLimiterOptions): Promise<EdgeAdmission>;
}
