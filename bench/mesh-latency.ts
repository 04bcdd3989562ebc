// Benchmark: end-to-end delivery latency of the mesh through the local stack (the compiled `npm start` on free ports,
// as tests/e2e/agt-mesh-routers.test.ts runs it). Two unmodified AGT 4.0.0 MeshClients behind the two demo routers
// establish a session; Alice then sends at a paced 200 messages/s and the latency is Alice's `send` call → Bob's
// `onMessage` handler (one process, one clock). Goal: p99 < 50 ms. A pass-through timing proxy sits between the
// routers and the Functions mesh routes, so each message's time splits into measured phases:
//   send → frame on Alice's socket (AGT encrypt) → POST mesh/relay/frames arrives (router A) → answered (relay store:
//   Cosmos write, Service Bus notice sent) → the fetch_pending that returns it starts (the notice through the broker to
//   router B, and its pump) → answered (relay store read) → frame on Bob's socket (router B's gate and push) → handler
//   (AGT decrypt). Anchor measured in the same run: the relay store's own time per message (POST + fetch answer), the
//   floor a zero-cost notice and push would leave.
// The per-agent rate limits of the router's socket (KARS_LIMIT_AGENT_RPS, 50/s) and of the relay (KARS_MESH_AGENT_RPS,
// 20/s, T4-D) are raised for this run so 200/s is admitted; the header says so, and refusals are counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import { freePortEnv, startStackProcess, stopStackProcess, alive, type StackProcess } from '../tests/e2e/support/local-stack-process';
import { meshClientFor, newMeshAgent, type AgtMeshClient } from './agt-mesh-client';
import { startTimingProxy, type TimingProxy } from './mesh-relay-timing-proxy';

export interface MeshLatencyOptions {
  /** Messages per second. Default 200. */
  rate?: number;
  /** Seconds of paced sending. Default 4. */
  seconds?: number;
  log?: (line: string) => void;
}

export interface MeshLatencyResult {
  sent: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  anchorP50Ms: number;
  anchorP99Ms: number;
}

const RAISED_AGENT_RPS = '1000';

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const waitFor = async (what: string, check: () => boolean, ms = 30_000): Promise<void> => {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

const frameOf = (data: unknown): { type?: unknown; id?: unknown } | undefined => {
  try {
    return JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data)) as { type?: unknown; id?: unknown };
  } catch {
    return undefined;
  }
};

export async function runMeshLatencyBench(options?: MeshLatencyOptions): Promise<MeshLatencyResult> {
  const rate = options?.rate ?? 200;
  const seconds = options?.seconds ?? 4;
  const log = options?.log ?? ((line: string) => console.log(line));
  const dataDir = mkdtempSync(join(tmpdir(), 'kars-mesh-bench-'));
  const clients: AgtMeshClient[] = [];
  let proxy: TimingProxy | undefined;
  let stack: StackProcess | undefined;
  try {
    proxy = await startTimingProxy();
    stack = await startStackProcess({
      ...freePortEnv(dataDir),
      KARS_LOCAL_MESH_FUNCTIONS_URL: proxy.url,
      KARS_MESH_AGENT_RPS: RAISED_AGENT_RPS, KARS_MESH_AGENT_BURST: RAISED_AGENT_RPS,
      KARS_LIMIT_AGENT_RPS: RAISED_AGENT_RPS, KARS_LIMIT_AGENT_BURST: RAISED_AGENT_RPS,
    }, 180_000);
    proxy.setTarget(stack.base);
    const ready = stack.output.find((l) => l.includes('kars local stack ready')) ?? '';
    const routers = Object.fromEntries([...ready.matchAll(/ (demo-sandbox[\w-]*)=(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => [m[1]!, m[2]!]));
    if (!routers['demo-sandbox'] || !routers['demo-sandbox-b']) throw new Error('the stack printed no demo routers');

    // Per message id: when Alice's frame left her socket (and which seq it carries), when it reached Bob's socket.
    const seqQueue: number[] = [];
    const leftAlice = new Map<string, { atMs: number; seq: number }>();
    const reachedBob = new Map<string, number>();
    const idOfSeq = new Map<number, string>();
    const refusals = new Map<string, number>();
    const alice = newMeshAgent();
    const bob = newMeshAgent();
    const a = meshClientFor(alice, routers['demo-sandbox'], {
      wsFactory: (url: string) => {
        const ws = new WebSocket(url);
        const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
        (ws as unknown as { send: typeof send }).send = (data, ...rest) => {
          const f = frameOf(data);
          if (f?.type === 'message' && typeof f.id === 'string' && seqQueue.length > 0) {
            const seq = seqQueue.shift()!;
            leftAlice.set(f.id, { atMs: performance.now(), seq });
            idOfSeq.set(seq, f.id);
          }
          send(data, ...rest);
        };
        ws.on('message', (data: RawData) => {
          const f = frameOf(data) as { type?: unknown; code?: unknown } | undefined;
          if (f?.type === 'error') refusals.set(String(f.code), (refusals.get(String(f.code)) ?? 0) + 1);
        });
        return ws;
      },
    });
    const b = meshClientFor(bob, routers['demo-sandbox-b'], {
      wsFactory: (url: string) => {
        const ws = new WebSocket(url);
        // Registered before the client's own onmessage, so it reads the arrival time first.
        ws.on('message', (data: RawData) => {
          const f = frameOf(data);
          if (f?.type === 'message' && typeof f.id === 'string' && !reachedBob.has(f.id)) reachedBob.set(f.id, performance.now());
        });
        return ws;
      },
    });
    clients.push(a, b);
    const sentAt = new Map<number, number>();
    const latency = new Map<number, number>();
    const handledAt = new Map<number, number>();
    const errors: string[] = [];
    b.onMessage((_from, payload) => {
      const now = performance.now();
      const seq = (payload as { seq?: unknown }).seq;
      if (typeof seq === 'number' && sentAt.has(seq) && !latency.has(seq)) {
        latency.set(seq, now - sentAt.get(seq)!);
        handledAt.set(seq, now);
      }
    });
    b.onKnock(() => true);
    a.onError((kind, _p, detail) => errors.push(`alice ${kind}: ${detail}`));
    b.onError((kind, _p, detail) => errors.push(`bob ${kind}: ${detail}`));
    await a.connect();
    await b.connect();
    await a.establishSessionWithPeer(bob.did);

    const send = (seq: number): void => {
      seqQueue.push(seq);
      sentAt.set(seq, performance.now());
      a.send(bob.did, { seq, pad: 'x'.repeat(200) }).catch((e: unknown) => errors.push(`send ${seq}: ${e instanceof Error ? e.message : 'failed'}`));
    };
    // Warm-up (negative seqs, not measured): the first message initializes Bob's ratchet; JIT and pools warm.
    for (let i = 1; i <= 20; i += 1) {
      send(-i);
      await sleep(20);
    }
    await waitFor('the warm-up messages at Bob', () => [...latency.keys()].filter((s) => s < 0).length >= 20);

    // Paced: message i goes at start + i / rate, whatever the previous one cost (open loop, no coordinated omission).
    const total = Math.round(rate * seconds);
    const interval = 1000 / rate;
    const started = performance.now();
    for (let i = 0; i < total; i += 1) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      send(i);
    }
    const sendSpanS = (performance.now() - started) / 1000;
    await waitFor('every paced message at Bob', () => [...latency.keys()].filter((s) => s >= 0).length >= total, 60_000).catch(() => undefined);

    const measured = [...latency.entries()].filter(([s]) => s >= 0).map(([, ms]) => ms);
    const p50 = quantile(measured, 0.5);
    const p99 = quantile(measured, 0.99);
    // Phases per measured message that every probe saw.
    const phases: Record<string, number[]> = {
      'send -> frame on Alice socket (AGT encrypt)': [],
      'Alice socket -> POST relay/frames at Functions (router A)': [],
      'POST relay/frames answered (relay store write + Service Bus notice)': [],
      'answered -> fetch_pending starts (notice via broker + router B pump wait)': [],
      'fetch_pending answered (relay store read)': [],
      'answered -> frame on Bob socket (router B gate + push)': [],
      'Bob socket -> handler (AGT decrypt)': [],
    };
    const anchor: number[] = [];
    const lists = Object.values(phases);
    for (let seq = 0; seq < total; seq += 1) {
      const id = idOfSeq.get(seq);
      const handled = handledAt.get(seq);
      if (id === undefined || handled === undefined) continue;
      const left = leftAlice.get(id);
      const post = proxy.posts.get(id);
      const fetched = proxy.fetches.get(id);
      const atBob = reachedBob.get(id);
      if (!left || !post || !fetched || atBob === undefined) continue;
      const points = [sentAt.get(seq)!, left.atMs, post.inMs, post.outMs, fetched.inMs, fetched.outMs, atBob, handled];
      for (let k = 0; k < lists.length; k += 1) lists[k]!.push(points[k + 1]! - points[k]!);
      anchor.push(post.outMs - post.inMs + (fetched.outMs - fetched.inMs));
    }
    // Router A's rate into the relay store over the run (it posts one socket's frames one after another).
    const postSpans = [...proxy.posts.values()];
    const postWindowS = postSpans.length > 1 ? (Math.max(...postSpans.map((p) => p.outMs)) - Math.min(...postSpans.map((p) => p.inMs))) / 1000 : Number.NaN;
    const anchorP50 = quantile(anchor, 0.5);
    const anchorP99 = quantile(anchor, 0.99);
    const met = p99 < 50;
    log(`mesh e2e latency (2 unmodified AGT MeshClients, 2 demo routers, Functions relay store + local broker; timing proxy on the mesh routes; router and relay per-agent limits raised to ${RAISED_AGENT_RPS}/s for the run)`);
    log(`paced ${rate} msg/s for ${seconds} s: sent ${total} in ${sendSpanS.toFixed(2)} s, delivered ${measured.length}; send -> handler p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms (goal p99 < 50 ms: ${met ? 'met' : 'MISSED'}); anchor relay store alone (POST + fetch answer) p50 ${fmt(anchorP50)} ms, p99 ${fmt(anchorP99)} ms`);
    log(`where the time goes (${anchor.length} messages seen at every probe; p50 / p99 ms per phase, measured):`);
    for (const [name, xs] of Object.entries(phases)) log(`  ${name}: ${fmt(quantile(xs, 0.5))} / ${fmt(quantile(xs, 0.99))}`);
    log(`router A -> relay store: ${postSpans.length} frames posted in ${postWindowS.toFixed(1)} s = ${(postSpans.length / postWindowS).toFixed(1)} frames/s against ${rate}/s offered`);
    if (refusals.size > 0) log(`error frames at Alice: ${[...refusals].map(([code, n]) => `${code} x${n}`).join(', ')}`);
    if (errors.length > 0) log(`client errors: ${errors.slice(0, 5).join('; ')}${errors.length > 5 ? ` (+${errors.length - 5})` : ''}`);
    return { sent: total, delivered: measured.length, p50Ms: p50, p99Ms: p99, anchorP50Ms: anchorP50, anchorP99Ms: anchorP99 };
  } finally {
    for (const c of clients) await c.disconnect().catch(() => undefined);
    if (stack) {
      await stopStackProcess(stack);
      for (const pid of Object.values(stack.pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await proxy?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
