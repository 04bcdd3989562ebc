// RR2 (static TrustGraph projection): a router that holds the trust it read keeps admitting a peer after the operator
// Defends: version-invalidation, fail-closed
// revoked it, until the sandbox is rolled. The router's live source (sandbox-node/router/http-trust-score-source.ts)
// drops a cached score as soon as its version poll sees the projection move, and answers unknown when it cannot
// confirm its cache. Attacks, on the local trust plane with the real SDKs: (1) a peer keeps knocking after a revoking
// update is applied; (2) the router's path to the app is cut (attacker in the network path) before the revocation.
// Each attack fails with the control on and succeeds with only that control off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalTrustPlane, type LocalTrustPlane } from '../../infra/local/trust/start-local-trust-plane';
import {
  createHttpTrustScoreSource, type LiveTrustScoreSource, type TrustSourceMitigation,
} from '../../sandbox-node/router/http-trust-score-source';
import type { TrustPayload } from '../../core/trust/trust-update';
import { captureLogs } from '../support/log-sink';
import { newIssuer, signed, TENANT } from '../core/trust/trust-fixture';

const OBS = 'sandbox-rr2';
const POLL_MS = 250;
/** The gate's threshold in these attacks: a peer below it is not admitted; undefined never is. */
const THRESHOLD = 400;
const admitted = (score: number | undefined): boolean => score !== undefined && score >= THRESHOLD;

let plane: LocalTrustPlane;
const issuer = newIssuer();
const sources: LiveTrustScoreSource[] = [];
const { logger } = captureLogs({ component: 'rr2-live-trust' });

beforeAll(async () => {
  plane = await startLocalTrustPlane({ logger });
  const res = await fetch(`${plane.apiBase}/manage/trust/issuers/${TENANT}`, {
    method: 'PUT', headers: { 'content-type': 'application/json', 'x-functions-key': plane.masterKey }, body: JSON.stringify({ keys: [issuer.key] }),
  });
  expect(res.status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const s of sources) await s.stop();
  await plane?.stop();
});

async function post(update: TrustPayload['update']): Promise<void> {
  const res = await fetch(`${plane.apiBase}/trust/updates`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-functions-key': plane.masterKey },
    body: JSON.stringify({ updates: [signed(issuer, Date.now(), update)] }),
  });
  expect(res.status).toBe(202);
}

function nextApplied(): Promise<number> {
  return new Promise((resolve) => plane.onApplied((_v, atMs) => resolve(atMs)));
}

function source(o: { ttlMs: number; maxPollAgeMs?: number; _disable?: TrustSourceMitigation[]; fetchImpl?: typeof fetch }): LiveTrustScoreSource {
  const s = createHttpTrustScoreSource({
    apiBase: plane.apiBase, tenantId: TENANT, pollMs: POLL_MS, ttlMs: o.ttlMs, maxPollAgeMs: o.maxPollAgeMs ?? 60_000, routerToken: async () => plane.tokenFor(OBS),
    ...(o.fetchImpl ? { fetchImpl: o.fetchImpl } : {}), ...(o._disable ? { _disable: o._disable } : {}),
  });
  sources.push(s);
  s.start();
  return s;
}

/** Knocks (scoreOf) every 10 ms for `forMs`; whether any knock was admitted after `fromMs`. */
async function knocks(s: LiveTrustScoreSource, did: string, fromMs: number, forMs: number): Promise<{ admittedAfter: boolean; last: number | undefined }> {
  let admittedAfter = false;
  let last: number | undefined;
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    last = await s.scoreOf(did);
    if (Date.now() > fromMs && admitted(last)) admittedAfter = true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { admittedAfter, last };
}

async function trusted(s: LiveTrustScoreSource, did: string): Promise<void> {
  for (const deadline = Date.now() + 15_000; !admitted(await s.scoreOf(did));) {
    if (Date.now() > deadline) throw new Error(`${did} never admitted`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RR2: a revoked peer keeps knocking', () => {
  it.each([
    ['on', [] as TrustSourceMitigation[]],
    ['off', ['version-invalidation'] as TrustSourceMitigation[]],
  ])('version invalidation %s', async (label, disable) => {
    const peer = `did:web:revoked-${label}.example`;
    // A TTL longer than the attack: only the version poll can end the cached admission.
    const s = source({ ttlMs: 60_000, _disable: disable });
    const trustApplied = nextApplied();
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: 200 }); // 300 → 500
    await trustApplied; // first read after the apply: the cache starts from the trusted score
    await trusted(s, peer);
    const applied = nextApplied();
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: -200 }); // revoked: 300
    const appliedAt = await applied;
    // Poll interval plus one poll and one score read on this shared machine, then 2 s of knocks.
    const { admittedAfter, last } = await knocks(s, peer, appliedAt + POLL_MS + 1_500, POLL_MS + 3_500);
    if (disable.length === 0) {
      expect(admittedAfter).toBe(false);
      expect(last).toBeLessThan(THRESHOLD);
    } else {
      expect(admittedAfter).toBe(true);
      expect(last).toBe(500);
    }
  }, 60_000);

  it.each([
    ['on', [] as TrustSourceMitigation[]],
    ['off', ['fail-closed'] as TrustSourceMitigation[]],
  ])('the router cut off from the trust plane before the revocation, fail closed %s', async (label, disable) => {
    const peer = `did:web:partitioned-${label}.example`;
    let cut = false;
    const partitioned: typeof fetch = (input, init) => (cut ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
    // Cached scores may live a minute; the poll age alone must end them once the path is cut.
    const maxPollAgeMs = 1_000;
    const s = source({ ttlMs: 60_000, maxPollAgeMs, _disable: disable, fetchImpl: partitioned });
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: 200 });
    await trusted(s, peer);
    cut = true;
    const cutAt = Date.now();
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: -200 });
    const { admittedAfter, last } = await knocks(s, peer, cutAt + maxPollAgeMs + POLL_MS + 500, maxPollAgeMs + 3_000);
    if (disable.length === 0) {
      expect(admittedAfter).toBe(false);
      expect(last).toBeUndefined();
    } else {
      expect(admittedAfter).toBe(true);
      expect(last).toBe(500);
    }
  }, 60_000);
});
