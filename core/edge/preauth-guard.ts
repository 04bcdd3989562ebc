// Pre-authentication flood guard (T1-D, T1-R): refusals of requests that never authenticated (404, 415, 413, 400,
// every 401) each cost a receipt append, and the rate limits only run after authentication. A token bucket per hook id
// and one for all hooks grant those refusals their own receipt; each instance holds its share of the deployment-wide
// budget (no store round trip per refusal). Past it a refusal is answered 429 and only counted, and each summary window
// ends in one receipt per hook id holding the counts by refusal code. Every request still leaves an audit trace, while
// the store writes of a flood are bounded by the buckets and the window.
import type { KarsErrorCode } from '../errors';
import { aintIn } from '../crypto/assert';
import { assertBucketConfig, perSecond, takeTokens, type TokenBucketConfig, type TokenBucketState } from '../limits/token-bucket';

/** Seed-like defaults: one sender's misconfiguration stays fully receipted; a flood is summarised. */
export const DEFAULT_PREAUTH_PER_HOOK: TokenBucketConfig = perSecond(10, 200);
export const DEFAULT_PREAUTH_GLOBAL: TokenBucketConfig = perSecond(100, 1000);
export const DEFAULT_PREAUTH_WINDOW_MS = 10_000;
export const DEFAULT_PREAUTH_MAX_SUMMARY_KEYS = 16;
export const DEFAULT_PREAUTH_MAX_TRACKED_HOOKS = 10_000;

/** Summary key of refusals whose hook id had no valid shape (or no id at all). */
export const NO_HOOK_KEY = '';
/** Summary key that collects every hook id beyond `maxSummaryKeys` in one window. */
export const OTHER_HOOKS_KEY = '(other)';

export interface PreAuthGuardOptions {
  /** Refusals receipted one by one, per hook id (the route segment, whether or not the hook exists). */
  readonly perHook?: TokenBucketConfig;
  /** Refusals receipted one by one, all hook ids of this process together. */
  readonly global?: TokenBucketConfig;
  /** Length of a summary window (fixed windows from the epoch), 1 s .. 1 h. */
  readonly windowMs?: number;
  /** Hook ids with their own summary per window; the rest share {@link OTHER_HOOKS_KEY}. */
  readonly maxSummaryKeys?: number;
  /** Per-hook buckets kept; the least recently used go first (a forgotten bucket restarts full). */
  readonly maxTrackedHooks?: number;
  /**
   * Function instances sharing `perHook` and `global` as one deployment-wide budget (default 1: the budgets are this
   * process's). Each instance takes its share ({@link instanceShare}), so N instances together stay within the
   * configured refill rate without a store write per refusal. 1 .. 1000 (the Flex Consumption maximum).
   */
  readonly instances?: number;
}

export interface ResolvedPreAuthOptions {
  /** This instance's share of the per-hook budget. */
  readonly perHook: TokenBucketConfig;
  /** This instance's share of the all-hooks budget. */
  readonly global: TokenBucketConfig;
  /** Instances the configured budgets were divided by. */
  readonly instances: number;
  readonly windowMs: number;
  readonly maxSummaryKeys: number;
  readonly maxTrackedHooks: number;
}

/** One window's refusals of one hook key: what a summary receipt records. */
export interface RefusalSummary {
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** The route's hook id, {@link NO_HOOK_KEY} or {@link OTHER_HOOKS_KEY}. */
  readonly hookKey: string;
  /** The registration's tenant when the hook id exists (the same for every request of that id), else undefined. */
  readonly tenantId: string | undefined;
  readonly count: number;
  /** Count per precise refusal code. */
  readonly codes: ReadonlyMap<KarsErrorCode, number>;
}

export type PreAuthVerdict = { readonly receipt: true } | { readonly receipt: false; readonly retryAfterMs: number };

export interface PreAuthGuard {
  /** Takes one token from the hook's and the global bucket (both or neither). */
  admit(hookKey: string, nowMs: number): PreAuthVerdict;
  /** Counts a refusal that got no receipt of its own. */
  count(hookKey: string, tenantId: string | undefined, code: KarsErrorCode, nowMs: number): void;
  /** True when some counted window has ended by `nowMs` (one comparison: cheap on every request). */
  hasClosedWindow(nowMs: number): boolean;
  /** End instant of the earliest window still holding counts, undefined when there is none. */
  nextWindowEndMs(): number | undefined;
  /** Removes and returns the summaries of windows ended by `nowMs`, or of every window with `all`. */
  takeSummaries(nowMs: number, all?: boolean): RefusalSummary[];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * One instance's share of a deployment-wide bucket: the capacity divided and rounded down, at least 1 token (so the
 * instances' bursts add up to at most max(capacity, instances)); the refill divided exactly by stretching its period
 * (10 per 1000 ms over 3 instances is 10 per 3000 ms), so the instances' sustained rates add up to the configured one.
 * @throws {RangeError|TypeError} for a malformed bucket or a share that no longer fits in safe integers
 */
export function instanceShare(config: TokenBucketConfig, instances: number): TokenBucketConfig {
  assertBucketConfig(config);
  if (instances === 1) return config;
  const g = gcd(config.refillTokens, instances);
  return assertBucketConfig({
    capacity: Math.max(1, Math.floor(config.capacity / instances)),
    refillTokens: config.refillTokens / g,
    refillPeriodMs: config.refillPeriodMs * (instances / g),
  });
}

/** @throws {RangeError|TypeError} for a malformed bucket or an out-of-range number (start-up configuration bug) */
export function resolvePreAuthOptions(options: PreAuthGuardOptions = {}): ResolvedPreAuthOptions {
  const instances = aintIn(options.instances ?? 1, 1, 1000, 'preAuthGuard.instances');
  return Object.freeze({
    perHook: instanceShare(options.perHook ?? DEFAULT_PREAUTH_PER_HOOK, instances),
    global: instanceShare(options.global ?? DEFAULT_PREAUTH_GLOBAL, instances),
    instances,
    windowMs: aintIn(options.windowMs ?? DEFAULT_PREAUTH_WINDOW_MS, 1000, 3_600_000, 'preAuthGuard.windowMs'),
    maxSummaryKeys: aintIn(options.maxSummaryKeys ?? DEFAULT_PREAUTH_MAX_SUMMARY_KEYS, 1, 1000, 'preAuthGuard.maxSummaryKeys'),
    maxTrackedHooks: aintIn(options.maxTrackedHooks ?? DEFAULT_PREAUTH_MAX_TRACKED_HOOKS, 1, 1_000_000, 'preAuthGuard.maxTrackedHooks'),
  });
}

interface Tally {
  tenantId: string | undefined;
  count: number;
  codes: Map<KarsErrorCode, number>;
}

export function createPreAuthGuard(options: ResolvedPreAuthOptions): PreAuthGuard {
  const hooks = new Map<string, TokenBucketState>();
  let global: TokenBucketState | undefined;
  // Window start → hook key → tally. Windows close in order; usually one or two are open.
  const windows = new Map<number, Map<string, Tally>>();
  let earliestStartMs = Number.POSITIVE_INFINITY;

  const windowStartOf = (nowMs: number): number => Math.floor(nowMs / options.windowMs) * options.windowMs;

  return {
    admit(hookKey, nowMs) {
      const hook = takeTokens(hooks.get(hookKey), nowMs, 1, options.perHook);
      const all = takeTokens(global, nowMs, 1, options.global);
      if (!hook.allowed || !all.allowed) {
        const retryAfterMs = Math.max(hook.allowed ? 0 : hook.retryAfterMs, all.allowed ? 0 : all.retryAfterMs);
        return { receipt: false, retryAfterMs };
      }
      global = all.state;
      hooks.delete(hookKey);
      hooks.set(hookKey, hook.state);
      while (hooks.size > options.maxTrackedHooks) hooks.delete(hooks.keys().next().value!);
      return { receipt: true };
    },

    count(hookKey, tenantId, code, nowMs) {
      const startMs = windowStartOf(nowMs);
      let window = windows.get(startMs);
      if (window === undefined) {
        window = new Map();
        windows.set(startMs, window);
        earliestStartMs = Math.min(earliestStartMs, startMs);
      }
      const key = window.has(hookKey) || window.size < options.maxSummaryKeys ? hookKey : OTHER_HOOKS_KEY;
      let tally = window.get(key);
      if (tally === undefined) {
        tally = { tenantId: key === OTHER_HOOKS_KEY ? undefined : tenantId, count: 0, codes: new Map() };
        window.set(key, tally);
      }
      // A hook id's tenant is known once a request reached the registry lookup (the "signature" step); earlier refusals lack it.
      if (key !== OTHER_HOOKS_KEY) tally.tenantId ??= tenantId;
      tally.count += 1;
      tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
    },

    hasClosedWindow(nowMs) {
      return nowMs >= earliestStartMs + options.windowMs;
    },

    nextWindowEndMs() {
      return windows.size === 0 ? undefined : earliestStartMs + options.windowMs;
    },

    takeSummaries(nowMs, all = false) {
      const out: RefusalSummary[] = [];
      for (const startMs of [...windows.keys()].sort((a, b) => a - b)) {
        const endMs = startMs + options.windowMs;
        if (!all && nowMs < endMs) continue;
        for (const [hookKey, tally] of windows.get(startMs)!) {
          out.push({ windowStartMs: startMs, windowEndMs: endMs, hookKey, tenantId: tally.tenantId, count: tally.count, codes: tally.codes });
        }
        windows.delete(startMs);
      }
      earliestStartMs = windows.size === 0 ? Number.POSITIVE_INFINITY : Math.min(...windows.keys());
      return out;
    },
  };
}
