// RR3: model-token budgets the router draws on (per sandbox per day and month, per tenant, per cluster), shared by
// every router through the store. Reserve before the call, settle with the real usage after it.

export interface TokenBudgetScope {
  readonly sandboxId: string;
  readonly tenantId: string;
}

export interface TokenReservation {
  readonly tokens: number;
  readonly atMs: number;
  readonly scope: TokenBudgetScope;
}

export type ReserveResult =
  | { readonly ok: true; readonly reservation: TokenReservation }
  /** `quota`: spent for the period (or larger than the limit outright): 403; `rate`: try again after `retryAfterMs`: 429. */
  | { readonly ok: false; readonly kind: 'quota' | 'rate'; readonly level: 'sandbox-day' | 'sandbox-month' | 'tenant' | 'tenant-share' | 'cluster' | 'store'; readonly retryAfterMs?: number };

export interface TokenBudget {
  /** Takes `tokens` from every level, all or nothing. Fails closed (`rate`, level `store`) when the store cannot answer. */
  reserve(scope: TokenBudgetScope, tokens: number): Promise<ReserveResult>;
  /** Charges `usedTokens` instead of the reservation: gives back the difference, or takes the excess. */
  settle(reservation: TokenReservation, usedTokens: number): Promise<void>;
}
