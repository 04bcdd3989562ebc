// Local token leases (T1-D): a process takes a few tokens from the shared bucket in one compare-and-swap and spends
// them locally, so a shared limit costs a store write per chunk instead of per request. Every leased token was taken
// from the shared bucket, so leases never raise the long-run rate; they only shift up to `chunk` tokens per process
// in time, which bounds the extra admitted in any window to processes × chunk.
import { anumber } from '../crypto/assert';
import type { TokenBucketConfig } from './token-bucket';

export interface TokenLease {
  /** Tokens still spendable locally. */
  readonly tokens: number;
  /** After this instant the remaining tokens are dropped (not returned): they must not pile up into a late burst. */
  readonly expiresAtMs: number;
}

/**
 * Spends `n` tokens from a local lease.
 * @returns the smaller lease, or undefined when the lease is absent, expired or too small (go to the shared bucket)
 */
export function spendFromLease(lease: TokenLease | undefined, nowMs: number, n = 1): TokenLease | undefined {
  anumber(nowMs, 'nowMs');
  if (lease === undefined || nowMs >= lease.expiresAtMs || lease.tokens < n) return undefined;
  return { tokens: lease.tokens - n, expiresAtMs: lease.expiresAtMs };
}

/**
 * The lease after a grant of `granted` tokens of which the current request used `used`. Unexpired tokens of the
 * previous lease are kept (they were paid for in the shared bucket); the expiry restarts.
 * Run at most one refill per bucket key and process at a time (single flight): concurrent refills each take a chunk,
 * which multiplies writes and store conflicts for nothing.
 */
export function leaseFromGrant(granted: number, used: number, nowMs: number, ttlMs: number, previous?: TokenLease): TokenLease {
  anumber(nowMs, 'nowMs');
  const carried = previous !== undefined && nowMs < previous.expiresAtMs ? previous.tokens : 0;
  return { tokens: carried + Math.max(0, anumber(granted, 'granted') - anumber(used, 'used')), expiresAtMs: nowMs + anumber(ttlMs, 'ttlMs') };
}

export interface LeaseChunkOptions {
  /** Instances expected to share the bucket. */
  readonly processes: number;
  /** Share of the per-second rate that leases may shift into one window, across all processes. Default 0.05. */
  readonly overshootFraction?: number;
}

/**
 * Largest chunk that keeps leases' effect on any 1 s window within `overshootFraction` of the per-second rate:
 * `floor(ratePerSec × fraction / processes)`, at least 1 (1 means no batching: a write per request).
 * @example leaseChunkSize(perSecond(500, 1000), { processes: 3 }) // 8 → ≤ 24 tokens shifted, 4.8 % of 500
 */
export function leaseChunkSize(config: TokenBucketConfig, options: LeaseChunkOptions): number {
  const processes = anumber(options.processes, 'processes');
  const fraction = options.overshootFraction ?? 0.05;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError('"overshootFraction" expected 0..1');
  const ratePerSec = (config.refillTokens * 1000) / config.refillPeriodMs;
  return Math.max(1, Math.floor((ratePerSec * fraction) / Math.max(1, processes)));
}
