// Benchmark (RR2, issue goal p99 < 2 s): trust propagation on the local trust plane, from `POST /api/trust/updates`
// answered 202 to the router-side TrustScoreSource returning the new score, over N signed updates one after another.
// Anchor measured in the same run, per update: from the same 202 to the applier's Cosmos write of the new projection
// version (the trust plane's own share: broker, session receive, verify, ETag replace). The figure minus the anchor
// is the router's share (version poll + one score read). A caller polls scoreOf every 10 ms, as KNOCKs arriving would.
import { signTrustPayload, trustIssuerKey } from '../core/trust/trust-signature';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { silentLogger } from '../core/ports/logger.port';
import { startLocalTrustPlane } from '../infra/local/trust/start-local-trust-plane';
import { createHttpTrustScoreSource, DEFAULT_TRUST_POLL_MS } from '../sandbox-node/router/http-trust-score-source';

export interface TrustBenchOptions {
  /** Measured updates. Default 100. */
  updates?: number;
  /** Unmeasured updates first. Default 3. */
  warmup?: number;
  /** The router's version poll interval. Default: the source's default. */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface TrustBenchResult {
  /** 202 → the router source returns the new score. */
  propagation: { p50: number; p99: number; max: number };
  /** Anchor: 202 → the applier stored the new projection version. */
  applied: { p50: number; p99: number; max: number };
  /** p50 of propagation / p50 of applied. */
  ratio: number;
  goalMet: boolean;
}

const TENANT = 'bench-tenant';
const OBSERVER = 'bench-sandbox';
const PEER = 'did:web:bench-peer.example';
const GOAL_P99_MS = 2_000;

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const stats = (xs: readonly number[]) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs) });

export async function runTrustBench(options: TrustBenchOptions = {}): Promise<TrustBenchResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const n = options.updates ?? 100;
  const warmup = options.warmup ?? 3;
  const pollMs = options.pollMs ?? DEFAULT_TRUST_POLL_MS;
  const plane = await startLocalTrustPlane({ logger: silentLogger });
  const { privateKey } = generateKeyPairSync('ed25519');
  const issuerKey = trustIssuerKey(privateKey);
  const operator = (path: string, init: RequestInit): Promise<Response> =>
    fetch(`${plane.apiBase}/${path}`, { ...init, headers: { 'content-type': 'application/json', 'x-functions-key': plane.masterKey } });
  const source = createHttpTrustScoreSource({
    apiBase: plane.apiBase, tenantId: TENANT, pollMs, routerToken: async () => plane.tokenFor(OBSERVER),
  });
  let lastApplied: { version: number; atMs: number } | undefined;
  plane.onApplied((version, atMs) => { lastApplied = { version, atMs }; });
  try {
    const put = await operator(`manage/trust/issuers/${TENANT}`, { method: 'PUT', body: JSON.stringify({ keys: [issuerKey] }) });
    if (put.status !== 200) throw new Error(`issuer registration answered ${put.status}`);
    source.start();
    const propagation: number[] = [];
    const applied: number[] = [];
    // From unknown (300): +100 → 400, −100 → 300, … (below the decay target, so no decay moves the score meanwhile).
    for (let i = 0; i < warmup + n; i++) {
      const delta = i % 2 === 0 ? 100 : -100;
      const want = i % 2 === 0 ? 400 : 300;
      const payload = {
        v: 1 as const, tenantId: TENANT, issuer: issuerKey, issuedAtSec: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url'),
        update: { type: 'signal' as const, observer: OBSERVER, subject: PEER, kind: 'explicit' as const, delta },
      };
      const res = await operator('trust/updates', { method: 'POST', body: JSON.stringify({ updates: [signTrustPayload(payload, privateKey)] }) });
      const acceptedAt = Date.now();
      if (res.status !== 202) throw new Error(`update ${i} answered ${res.status}`);
      const deadline = acceptedAt + 30_000;
      while ((await source.scoreOf(PEER)) !== want) {
        if (Date.now() > deadline) throw new Error(`update ${i} never reached the router`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const seenAt = Date.now();
      if (i < warmup) continue;
      propagation.push(seenAt - acceptedAt);
      // The projection version i + 1 is the one this update made (one update per version, applied in order).
      if (lastApplied?.version !== i + 1) throw new Error(`applier at version ${String(lastApplied?.version)}, expected ${i + 1}`);
      applied.push(lastApplied.atMs - acceptedAt);
    }
    const result: TrustBenchResult = {
      propagation: stats(propagation), applied: stats(applied),
      ratio: quantile(propagation, 0.5) / Math.max(1, quantile(applied, 0.5)),
      goalMet: quantile(propagation, 0.99) < GOAL_P99_MS,
    };
    log(`trust propagation, POST 202 → router source returns the new score (${n} updates, version poll ${pollMs} ms):`);
    log(`  router source  p50 ${result.propagation.p50} ms  p99 ${result.propagation.p99} ms  max ${result.propagation.max} ms  (goal p99 < ${GOAL_P99_MS} ms: ${result.goalMet ? 'met' : 'NOT met'})`);
    log(`  anchor applied p50 ${result.applied.p50} ms  p99 ${result.applied.p99} ms  max ${result.applied.max} ms  (202 → projection written)`);
    log(`  ratio p50 router/applied ${result.ratio.toFixed(2)}; router share p50 ${result.propagation.p50 - result.applied.p50} ms (provisional: shared, loaded machine)`);
    return result;
  } finally {
    await source.stop();
    await plane.stop();
  }
}
