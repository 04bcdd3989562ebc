// T4 interop end to end: two unmodified AGT 4.0.0 MeshClients, each behind one of `npm start`'s demo routers
// (dist/infra/local/start.js on free ports), register, KNOCK and exchange end-to-end encrypted messages through the
// routers, the Functions relay store (Cosmos stand-in) and the Service Bus broker, including a KNOCK and messages sent
// while the receiver was offline (delivered on its `fetch_pending`). The routers' trust gate runs at its default 500
// against a trust table served here; a third client with another DID is refused by the bound router.
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortEnv, startStackProcess, stopStackProcess, alive, type StackProcess } from './support/local-stack-process';
import { meshClientFor, newMeshAgent, type AgtMeshClient } from '../mesh/agt-mesh-client';

const dataDir = mkdtempSync(join(tmpdir(), 'kars-mesh-e2e-'));
const alice = newMeshAgent();
const bob = newMeshAgent();
const scores = new Map<string, number>([[alice.did, 700], [bob.did, 700]]);
const trustLookups: string[] = [];
let trust: http.Server;
let stack: StackProcess;
let routers: Record<string, string> = {};
const clients: AgtMeshClient[] = [];

const waitFor = async (what: string, check: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  // The trust table the routers' TrustScoreSource reads (GET <url>/mesh/trust/scores/{did}, as the trust plane answers).
  trust = http.createServer((req, res) => {
    const m = /^\/api\/mesh\/trust\/scores\/([^/?]+)/.exec(req.url ?? '');
    const did = m ? decodeURIComponent(m[1]!) : '';
    trustLookups.push(did);
    const score = scores.get(did);
    res.writeHead(score === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(score === undefined ? { code: 'NOT_FOUND' } : { score }));
  });
  await new Promise<void>((r) => trust.listen(0, '127.0.0.1', () => r()));
  const trustUrl = `http://127.0.0.1:${(trust.address() as { port: number }).port}/api`;
  stack = await startStackProcess({
    ...freePortEnv(dataDir), KARS_LOCAL_MODEL_PORT: '0', KARS_LOCAL_ROUTER_PORT: '0', KARS_LOCAL_ROUTER_B_PORT: '0',
    KARS_LOCAL_MESH_TRUST_THRESHOLD: '500', KARS_LOCAL_MESH_TRUST_URL: trustUrl,
  }, 180_000);
  const ready = stack.output.find((l) => l.includes('kars local stack ready')) ?? '';
  routers = Object.fromEntries([...ready.matchAll(/ (demo-sandbox[\w-]*)=(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => [m[1]!, m[2]!]));
}, 200_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  if (stack) {
    await stopStackProcess(stack);
    for (const pid of Object.values(stack.pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await new Promise<void>((r) => (trust ? trust.close(() => r()) : r()));
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('two AGT MeshClients behind the demo routers', () => {
  it('register, KNOCK and talk end to end, with a KNOCK and messages queued while the receiver was offline', async () => {
    expect(Object.keys(routers).sort()).toEqual(['demo-sandbox', 'demo-sandbox-b']);
    const a = meshClientFor(alice, routers['demo-sandbox']!);
    const b = meshClientFor(bob, routers['demo-sandbox-b']!);
    clients.push(a, b);
    const atBob: unknown[] = [];
    const atAlice: unknown[] = [];
    const knocksAtBob: unknown[] = [];
    const errors: string[] = [];
    b.onMessage((_from, payload) => atBob.push(payload));
    a.onMessage((_from, payload) => atAlice.push(payload));
    b.onKnock((from, intent) => {
      knocksAtBob.push({ from, intent });
      return true;
    });
    a.onError((kind, _p, detail) => errors.push(`alice ${kind}: ${detail}`));
    b.onError((kind, _p, detail) => errors.push(`bob ${kind}: ${detail}`));

    // Both connect (connect + fetch_pending) and register with prekeys through their routers.
    await a.connect();
    await b.connect();
    // Bob goes offline; Alice KNOCKs and writes to him.
    await b.disconnect();
    await a.establishSessionWithPeer(bob.did);
    await a.send(bob.did, { n: 1, text: 'sent while you were away' });
    await a.send(bob.did, { n: 2, text: 'still away' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(knocksAtBob).toEqual([]);

    // Bob comes back: his fetch_pending brings the KNOCK (countersigned by router A, checked by router B) and both
    // messages, which his own ratchet decrypts.
    await b.connect();
    await waitFor('the queued messages at Bob', () => atBob.length >= 2);
    expect(knocksAtBob).toEqual([{ from: alice.did, intent: { action: 'establish_session' } }]);
    expect(atBob).toEqual([{ n: 1, text: 'sent while you were away' }, { n: 2, text: 'still away' }]);
    expect(trustLookups).toContain(alice.did);

    // Live both ways now.
    await b.send(alice.did, { reply: 'back online' });
    await waitFor('Bob\'s reply at Alice', () => atAlice.length >= 1);
    expect(atAlice).toEqual([{ reply: 'back online' }]);
    await a.send(bob.did, { n: 3 });
    await waitFor('the live message at Bob', () => atBob.length >= 3);
    expect(atBob[2]).toEqual({ n: 3 });
    expect(errors).toEqual([]);
  }, 90_000);

  it('refuses a client with another DID at a bound router (T4-S)', async () => {
    const mallory = newMeshAgent();
    const ws = new WebSocket(`${routers['demo-sandbox']!.replace(/^http/, 'ws')}/agt/relay/ws`);
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise<void>((r) => ws.on('open', () => r()));
    ws.send(JSON.stringify({ v: 1, type: 'connect', from: mallory.did }));
    expect(await closed).toBe(1008);
    expect(frames).toEqual([expect.objectContaining({ type: 'error', code: 'MESH_DID_MISMATCH' })]);

    // Its registry calls are refused too: registering another DID at router A.
    const res = await fetch(`${routers['demo-sandbox']!}/agt/registry/v1/agents`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ did: mallory.did, public_key: Buffer.from(mallory.keys.identityKey.publicKey).toString('base64url'), capabilities: [], metadata: {} }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('MESH_DID_MISMATCH');
  }, 30_000);
});
