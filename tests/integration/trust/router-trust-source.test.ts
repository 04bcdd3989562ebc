// RR2: the router-side trust score source against the local trust plane with the real SDKs (Cosmos stand-in, local
// AMQP broker, local Functions host, queue driver running the applier). A signed update POSTed to the operator route
// reaches the router's source without a restart within the poll bound; a revoked endorsement lowers it; a router reads
// only its own sandbox's view; an unreachable or refusing app gives undefined (fail closed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalTrustPlane, type LocalTrustPlane } from '../../../infra/local/trust/start-local-trust-plane';
import { createHttpTrustScoreSource, type LiveTrustScoreSource } from '../../../sandbox-node/router/http-trust-score-source';
import type { SignedTrustUpdate, TrustPayload } from '../../../core/trust/trust-update';
import { captureLogs } from '../../support/log-sink';
import { trustScoreSourceFromEnv } from '../../../sandbox-node/router/router-trust-settings';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newIssuer, signed, TENANT } from '../../core/trust/trust-fixture';

const OBS = 'sandbox-r';
const POLL_MS = 250;
// Longer than any wait below: a changed score can only come through the version poll, never through expiry.
const LONG_TTL_MS = 60_000;
// Poll interval plus one poll and one score read on this shared machine.
const ROUTER_SHARE_BOUND_MS = POLL_MS + 1_500;

let plane: LocalTrustPlane;
const issuer = newIssuer();
const sources: LiveTrustScoreSource[] = [];
const { logger } = captureLogs({ component: 'router-trust-source-test' });

beforeAll(async () => {
  plane = await startLocalTrustPlane({ logger });
  const res = await operator(`manage/trust/issuers/${TENANT}`, { method: 'PUT', body: JSON.stringify({ keys: [issuer.key] }) });
  expect(res.status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const s of sources) await s.stop();
  await plane?.stop();
});

function operator(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${plane.apiBase}/${path}`, { ...init, headers: { 'content-type': 'application/json', 'x-functions-key': plane.masterKey } });
}

async function post(update: TrustPayload['update']): Promise<SignedTrustUpdate> {
  const u = signed(issuer, Date.now(), update);
  const res = await operator('trust/updates', { method: 'POST', body: JSON.stringify({ updates: [u] }) });
  expect(res.status).toBe(202);
  return u;
}

function source(sandbox: string, o: { ttlMs?: number; maxPollAgeMs?: number; fetchImpl?: typeof fetch; apiBase?: string; token?: () => Promise<string> } = {}): LiveTrustScoreSource {
  const s = createHttpTrustScoreSource({
    apiBase: o.apiBase ?? plane.apiBase, tenantId: TENANT, pollMs: POLL_MS, ttlMs: o.ttlMs ?? LONG_TTL_MS, maxPollAgeMs: o.maxPollAgeMs ?? LONG_TTL_MS,
    routerToken: o.token ?? (async () => plane.tokenFor(sandbox)),
    ...(o.fetchImpl ? { fetchImpl: o.fetchImpl } : {}),
  });
  sources.push(s);
  s.start();
  return s;
}

/** Calls scoreOf as a KNOCK gate would until it returns `want`; the time it first did. */
async function until(s: LiveTrustScoreSource, did: string, want: number | undefined, limitMs = 15_000): Promise<number> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if ((await s.scoreOf(did)) === want) return Date.now();
    if (Date.now() > deadline) throw new Error(`score of ${did} never became ${String(want)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function nextApplied(): Promise<number> {
  return new Promise((resolve) => plane.onApplied((_v, atMs) => resolve(atMs)));
}

describe('router trust score source on the local trust plane', () => {
  it('a signed update applied through the real route reaches the router within the poll bound, served from cache in between', async () => {
    const peer = 'did:web:peer-one.example';
    const calls: string[] = [];
    const counting: typeof fetch = (input, init) => {
      calls.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    const s = source(OBS, { fetchImpl: counting });
    expect(await s.scoreOf(peer)).toBeUndefined(); // no trust recorded: unknown

    for (const [delta, want] of [[100, 400], [-50, 350], [150, 500]] as const) {
      const applied = nextApplied();
      const postedAt = Date.now();
      await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta });
      const seenAt = await until(s, peer, want);
      const appliedAt = await applied;
      expect(seenAt - appliedAt, `router share of the propagation (post→seen ${seenAt - postedAt} ms)`).toBeLessThanOrEqual(ROUTER_SHARE_BOUND_MS);
    }
    // Between changes the gate is answered from the cache: many calls, one score read per version.
    const before = calls.filter((p) => p.includes('/scores/')).length;
    for (let i = 0; i < 50; i++) expect(await s.scoreOf(peer)).toBe(500);
    expect(calls.filter((p) => p.includes('/scores/')).length).toBe(before);
  }, 60_000);

  it('a revoked endorsement lowers the score the router sees, back to unknown', async () => {
    const endorser = 'did:web:endorser.example';
    const peer = 'did:web:peer-two.example';
    const s = source(OBS);
    await post({ type: 'signal', observer: OBS, subject: endorser, kind: 'explicit', delta: 200 });
    await post({ type: 'edge', from: endorser, to: peer, weight: 900 });
    // What the operator route says the transitive score is, once both are applied.
    let expected: { score: number; source: string } | undefined;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      expected = (await (await operator(`trust/scores/${peer}?tenant=${TENANT}&observer=${OBS}`)).json()) as { score: number; source: string };
      if (expected.source === 'transitive') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(expected?.source).toBe('transitive');
    await until(s, peer, expected!.score);

    const applied = nextApplied();
    await post({ type: 'edge', from: endorser, to: peer, weight: 0 });
    const seenAt = await until(s, peer, undefined);
    expect(seenAt - (await applied)).toBeLessThanOrEqual(ROUTER_SHARE_BOUND_MS);
  }, 60_000);

  it('a router reads its own sandbox\'s view only; no or a foreign-audience token is refused', async () => {
    const peer = 'did:web:peer-three.example';
    const mine = source(OBS);
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: 200 });
    await until(mine, peer, 500);
    // Another sandbox's router asking about the same DID gets its own (empty) view.
    expect(await source('sandbox-other').scoreOf(peer)).toBeUndefined();
    const res = await fetch(`${plane.apiBase}/mesh/trust/scores/${peer}?tenant=${TENANT}`);
    expect(res.status).toBe(401);
    const wrongAudience = await fetch(`${plane.apiBase}/mesh/trust/version?tenant=${TENANT}`, { headers: { 'x-kars-router-token': 'a.b.c' } });
    expect(wrongAudience.status).toBe(401);
    // The observer is never a parameter.
    const forged = await fetch(`${plane.apiBase}/mesh/trust/scores/${peer}?tenant=${TENANT}&observer=${OBS}`, { headers: { 'x-kars-router-token': plane.tokenFor('sandbox-other') } });
    expect(forged.status).toBe(400);
  }, 60_000);

  it('the source the pod settings build reads the projected token file and follows the projection', async () => {
    const peer = 'did:web:peer-five.example';
    const dir = mkdtempSync(join(tmpdir(), 'kars-mesh-token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${plane.tokenFor(OBS)}\n`, { mode: 0o600 });
    const s = trustScoreSourceFromEnv({ KARS_ROUTER_TRUST_API: plane.apiBase, KARS_ROUTER_MESH_TOKEN_FILE: tokenFile }, TENANT)!;
    sources.push(s);
    s.start();
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: 150 });
    await until(s, peer, 450);
  }, 60_000);

  it('fails closed: an unreachable app, a refused token, and a cache whose polls stopped answering all give undefined', async () => {
    const peer = 'did:web:peer-four.example';
    await post({ type: 'signal', observer: OBS, subject: peer, kind: 'explicit', delta: 100 });
    // Port 9 on loopback: nothing listens (connection refused).
    expect(await source(OBS, { apiBase: 'http://127.0.0.1:9/api' }).scoreOf(peer)).toBeUndefined();
    expect(await source(OBS, { token: async () => 'not-a-token' }).scoreOf(peer)).toBeUndefined();
    expect(await source(OBS, { token: async () => { throw new Error('token file unreadable'); } }).scoreOf(peer)).toBeUndefined();

    // A partition after the score was cached: served while polls succeed, refused once none has for maxPollAgeMs.
    let cut = false;
    const partitioned: typeof fetch = (input, init) => (cut ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
    const s = source(OBS, { maxPollAgeMs: 1_000, fetchImpl: partitioned });
    await until(s, peer, 400);
    cut = true;
    expect(await s.scoreOf(peer)).toBe(400); // polled within maxPollAgeMs: the last confirmed answer
    await until(s, peer, undefined, 5_000);
  }, 60_000);
});
