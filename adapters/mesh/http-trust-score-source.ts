// TrustScoreSource over the trust plane's router read `GET /api/mesh/trust/scores/{did}?tenant=` (router token; the
// observer is the token's sandbox): the effective score of `did` as this sandbox sees it. The router's RR2 source
// (sandbox-node/router/http-trust-score-source.ts, version-polled) replaces it when KARS_ROUTER_TRUST_API is set. Any failure reads as "no score" (the KNOCK gate then refuses,
// fail closed). Scores are cached briefly so a KNOCK burst is one lookup.
import type { TrustScoreSource } from '../../core/ports/trust-score.port';

export interface HttpTrustScoreSourceOptions {
  /** The Function app's `/api` root. */
  baseUrl: string;
  tenantId: string;
  /** Extra headers (the router's token). */
  headers?: () => Promise<Record<string, string>>;
  cacheMs?: number;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  nowMs?: () => number;
}

export function httpTrustScoreSource(options: HttpTrustScoreSourceOptions): TrustScoreSource {
  const doFetch = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const now = options.nowMs ?? Date.now;
  const cacheMs = options.cacheMs ?? 10_000;
  const cache = new Map<string, { score: number; untilMs: number }>();
  return {
    async scoreOf(did) {
      const hit = cache.get(did);
      if (hit && hit.untilMs > now()) return hit.score;
      const q = new URLSearchParams({ tenant: options.tenantId });
      try {
        const res = await doFetch(`${options.baseUrl.replace(/\/+$/, '')}/mesh/trust/scores/${encodeURIComponent(did)}?${q}`, {
          headers: { ...(await options.headers?.()) }, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
        if (res.status !== 200) return undefined;
        const score = ((await res.json()) as { score?: unknown }).score;
        if (typeof score !== 'number' || !Number.isFinite(score)) return undefined;
        if (cache.size >= 10_000) cache.delete(cache.keys().next().value!);
        cache.set(did, { score, untilMs: now() + cacheMs });
        return score;
      } catch {
        return undefined;
      }
    },
  };
}
