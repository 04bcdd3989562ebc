// RR2: the router's live trust scores (TrustScoreSource for the KNOCK gate), read from the Functions app with the
// router's projected service-account token (GET /api/mesh/trust/scores/{did}: the observer is this sandbox).
//
// Freshness by version polling: every answer carries the tenant's projection version, and the router polls
// GET /api/mesh/trust/version every `pollMs`; a cached score is served only while its version is the newest seen, it
// is younger than `ttlMs`, and a poll succeeded within `maxPollAgeMs`. Polling rather than a push because any applied update can move any observer's
// score (transitive paths), so a push would have to reach every router of the tenant (a Service Bus topic with a
// subscription per sandbox, created and removed with it), and a lost push would leave a stale score with nothing to
// notice; a poll is one small read per interval, bounds propagation by apply latency + `pollMs`, and fails closed
// when it stops answering.
//
// Fail closed: unreachable, refused, malformed, too old, or no trust recorded (`source: unknown`) → undefined.
import { ROUTER_TOKEN_HEADER } from '../../core/mesh/router-auth/verify-router-token';
import { isDid } from '../../core/trust/trust-update';
import type { Clock } from '../../core/ports/clock.port';
import { systemClock } from '../../core/ports/clock.port';
import type { Logger } from '../../core/ports/logger.port';
import type { TrustScoreSource } from '../../core/ports/trust-score.port';

export const DEFAULT_TRUST_POLL_MS = 250;
/** RR2 controls, switchable off only by attack tests (never from configuration). */
export const TRUST_SOURCE_MITIGATIONS = ['version-invalidation', 'fail-closed'] as const;
export type TrustSourceMitigation = (typeof TRUST_SOURCE_MITIGATIONS)[number];
export const DEFAULT_TRUST_TTL_MS = 30_000;
export const DEFAULT_TRUST_MAX_POLL_AGE_MS = 2_000;
export const MAX_CACHED_DIDS = 10_000;

export interface HttpTrustScoreSourceOptions {
  /** The Functions app's API base, e.g. `https://<app>.azurewebsites.net/api` (no trailing slash needed). */
  readonly apiBase: string;
  readonly tenantId: string;
  /** The projected service-account token (audience `kars-mesh`), read fresh when it rotates. */
  readonly routerToken: () => Promise<string>;
  /** Version poll interval. */
  readonly pollMs?: number;
  /** Longest a cached score is served (the version poll drops it sooner when the projection moves). */
  readonly ttlMs?: number;
  /** Longest without a successful version poll before no cached score is served (fail closed). */
  readonly maxPollAgeMs?: number;
  readonly requestTimeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * TEST ONLY: `version-invalidation` off serves a cached score for its whole TTL whatever version the poll saw (the
   * static projection RR2 names); `fail-closed` off answers the last known score when the app cannot be reached.
   */
  readonly _disable?: readonly TrustSourceMitigation[];
}

export interface LiveTrustScoreSource extends TrustScoreSource {
  /** The newest projection version seen; undefined before the first answer. */
  version(): number | undefined;
  /** Starts the version poll (idempotent). */
  start(): void;
  stop(): Promise<void>;
}

interface Entry {
  readonly score: number | undefined;
  readonly version: number;
  readonly atMs: number;
}

const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export function createHttpTrustScoreSource(options: HttpTrustScoreSourceOptions): LiveTrustScoreSource {
  const clock = options.clock ?? systemClock;
  const doFetch = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const pollMs = options.pollMs ?? DEFAULT_TRUST_POLL_MS;
  const ttlMs = options.ttlMs ?? DEFAULT_TRUST_TTL_MS;
  const maxPollAgeMs = options.maxPollAgeMs ?? DEFAULT_TRUST_MAX_POLL_AGE_MS;
  const timeoutMs = options.requestTimeoutMs ?? 1_000;
  const base = options.apiBase.replace(/\/+$/, '');
  const tenant = encodeURIComponent(options.tenantId);
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<number | undefined>>();
  let current: number | undefined;
  let lastPollOkMs: number | undefined;
  let pollFailing = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let running = false;
  const on = (m: TrustSourceMitigation): boolean => !options._disable?.includes(m);

  async function getJson(path: string): Promise<Record<string, unknown> | undefined> {
    const token = await options.routerToken();
    const res = await doFetch(`${base}/${path}`, {
      headers: { [ROUTER_TOKEN_HEADER]: token, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      options.logger?.warn('trust.score_read_refused', { status: res.status });
      return undefined;
    }
    const body: unknown = await res.json();
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  }

  const fresh = (e: Entry, nowMs: number): boolean =>
    (e.version === current || !on('version-invalidation')) && nowMs - e.atMs <= ttlMs &&
    ((lastPollOkMs !== undefined && nowMs - lastPollOkMs <= maxPollAgeMs) || !on('fail-closed'));
  const failed = (did: string): number | undefined => (on('fail-closed') ? undefined : cache.get(did)?.score);

  async function fetchScore(did: string): Promise<number | undefined> {
    try {
      const body = await getJson(`mesh/trust/scores/${encodeURIComponent(did)}?tenant=${tenant}`);
      const { version, score, source } = body ?? {};
      if (!isVersion(version) || !Number.isSafeInteger(score) || (score as number) < 0 || (score as number) > 1000) return failed(did);
      current = Math.max(current ?? version, version);
      const value = source === 'unknown' ? undefined : (score as number);
      // Bounded: a flood of KNOCKs from new DIDs evicts the oldest entries, never grows the router's memory.
      cache.delete(did);
      if (cache.size >= MAX_CACHED_DIDS) cache.delete(cache.keys().next().value!);
      cache.set(did, { score: value, version, atMs: clock.nowMs() });
      return value;
    } catch {
      // Unreachable, timed out, token unreadable, not JSON: unknown.
      return failed(did);
    }
  }

  async function pollOnce(): Promise<void> {
    try {
      const body = await getJson(`mesh/trust/version?tenant=${tenant}`);
      if (!isVersion(body?.version)) throw new Error('no version');
      // A newer version makes every cached score stale. An older one (a poll answered from a read made before a score
      // read saw the newer version, or a projection rebuilt from zero) must not make old entries current again: drop them.
      if (current !== undefined && body.version < current) cache.clear();
      current = body.version;
      lastPollOkMs = clock.nowMs();
      if (pollFailing) options.logger?.info('trust.version_poll_recovered', { seq: current });
      pollFailing = false;
    } catch {
      if (!pollFailing) options.logger?.warn('trust.version_poll_failed', { reason: 'unreachable-or-refused' });
      pollFailing = true;
    }
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      polling = pollOnce().finally(schedule);
    }, pollMs);
    timer.unref();
  }

  return {
    async scoreOf(did) {
      if (!isDid(did)) return undefined;
      const cached = cache.get(did);
      if (cached && fresh(cached, clock.nowMs())) return cached.score;
      // One request per DID and version at a time.
      const key = `${current ?? -1}\n${did}`;
      let pending = inflight.get(key);
      if (!pending) {
        pending = fetchScore(did).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending;
    },
    version: () => current,
    start() {
      if (running) return;
      running = true;
      polling = pollOnce().finally(schedule);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await polling;
    },
  };
}
