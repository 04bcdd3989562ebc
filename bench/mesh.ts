// Benchmark: Double Ratchet messages/s for 1 KiB plaintexts, one-way (a run of messages on one chain, so symmetric
// ratchet only) and ping-pong (every message turns the DH ratchet), for our ratchet on both suites beside the AGT SDK's
// `DoubleRatchet` (@microsoft/agent-governance-sdk 4.0.0, X25519 in JavaScript) measured in the same run. The three are
// measured in turn, round after round, and each figure is the median of its rounds, so background load on a shared
// machine hits all of them alike. A message counts once: encrypt + decrypt.
import { randomBytes } from 'node:crypto';
import { DoubleRatchet } from '@microsoft/agent-governance-sdk';
import { generateX25519KeyPair } from '../core/mesh/curve-keys';
import { MESH_SUITE_NAMES, type MeshSuiteName } from '../core/mesh/mesh-suites';
import { initRatchetReceiver, initRatchetSender, ratchetDecrypt, ratchetEncrypt, type RatchetMessage, type RatchetState } from '../core/mesh/ratchet';

export interface MeshBenchOptions {
  /** Rounds; each measures every implementation once per pattern, in reversed order every other round. Default 9. */
  rounds?: number;
  /** Messages per one-way run of our ratchet (AGT gets a quarter). Default 1000. */
  oneWayMessages?: number;
  /** Messages per ping-pong run of our ratchet (AGT gets a quarter). Default 400. */
  pingPongMessages?: number;
  /** Plaintext size. Default 1024. */
  messageBytes?: number;
  log?: (line: string) => void;
}

type Impl = MeshSuiteName | 'agt';
export interface MeshBenchResult {
  oneWay: Record<Impl, number>;
  pingPong: Record<Impl, number>;
  /** ours / AGT, per suite. */
  oneWayRatio: Record<MeshSuiteName, number>;
  pingPongRatio: Record<MeshSuiteName, number>;
}

interface Pair {
  send(from: 0 | 1, plaintext: Uint8Array): unknown;
  receive(to: 0 | 1, message: unknown): Uint8Array;
}

const AD = new TextEncoder().encode('did:mesh:a|did:mesh:b');

function oursPair(suite: MeshSuiteName): Pair {
  const sk = new Uint8Array(randomBytes(32));
  const spk = generateX25519KeyPair();
  const states: [RatchetState, RatchetState] = [initRatchetSender(suite, sk, spk.publicKey), initRatchetReceiver(suite, sk, spk)];
  return {
    send: (from, plaintext) => {
      const r = ratchetEncrypt(states[from], plaintext, AD);
      if (!r.ok) throw new Error(r.code);
      return r.value;
    },
    receive: (to, message) => {
      const r = ratchetDecrypt(states[to], message as RatchetMessage, AD);
      if (!r.ok) throw new Error(r.code);
      return r.value;
    },
  };
}

function agtPair(): Pair {
  const sk = new Uint8Array(randomBytes(32));
  const spk = generateX25519KeyPair();
  const ratchets = [DoubleRatchet.initSender(sk, spk.publicKey), DoubleRatchet.initReceiver(sk, spk)] as const;
  return {
    send: (from, plaintext) => ratchets[from].encrypt(plaintext, AD),
    receive: (to, message) => ratchets[to].decrypt(message as Parameters<DoubleRatchet['decrypt']>[0], AD),
  };
}

const makePair = (impl: Impl): Pair => (impl === 'agt' ? agtPair() : oursPair(impl));

function runOneWay(impl: Impl, messages: number, plaintext: Uint8Array): number {
  const pair = makePair(impl);
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i += 1) pair.receive(1, pair.send(0, plaintext));
  return messages / (Number(process.hrtime.bigint() - started) / 1e9);
}

function runPingPong(impl: Impl, messages: number, plaintext: Uint8Array): number {
  const pair = makePair(impl);
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i += 1) {
    const from = (i % 2) as 0 | 1;
    pair.receive((1 - from) as 0 | 1, pair.send(from, plaintext));
  }
  return messages / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Runs the rounds and prints one line per pattern: every implementation's median rate and ours/AGT. */
export async function runMeshBench(options?: MeshBenchOptions): Promise<MeshBenchResult> {
  const rounds = options?.rounds ?? 9;
  const oneWayN = options?.oneWayMessages ?? 1000;
  const pingPongN = options?.pingPongMessages ?? 400;
  const log = options?.log ?? ((line: string) => console.log(line));
  const plaintext = new Uint8Array(randomBytes(options?.messageBytes ?? 1024));
  const impls: Impl[] = [...MESH_SUITE_NAMES, 'agt'];
  const samples = { oneWay: new Map<Impl, number[]>(), pingPong: new Map<Impl, number[]>() };
  // Warm-up: JIT and lazy init, not measured.
  for (const impl of impls) {
    runOneWay(impl, 50, plaintext);
    runPingPong(impl, 10, plaintext);
  }
  for (let r = 0; r < rounds; r += 1) {
    for (const impl of r % 2 ? [...impls].reverse() : impls) {
      const agt = impl === 'agt';
      samples.oneWay.set(impl, [...(samples.oneWay.get(impl) ?? []), runOneWay(impl, agt ? Math.max(1, oneWayN >> 2) : oneWayN, plaintext)]);
      samples.pingPong.set(impl, [...(samples.pingPong.get(impl) ?? []), runPingPong(impl, agt ? Math.max(2, Math.round(pingPongN / 4)) : pingPongN, plaintext)]);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const med = (m: Map<Impl, number[]>): Record<Impl, number> => Object.fromEntries(impls.map((i) => [i, median(m.get(i)!)])) as Record<Impl, number>;
  const oneWay = med(samples.oneWay);
  const pingPong = med(samples.pingPong);
  const ratio = (x: Record<Impl, number>): Record<MeshSuiteName, number> =>
    Object.fromEntries(MESH_SUITE_NAMES.map((s) => [s, x[s] / x.agt])) as Record<MeshSuiteName, number>;
  const result = { oneWay, pingPong, oneWayRatio: ratio(oneWay), pingPongRatio: ratio(pingPong) };
  const bytes = plaintext.length;
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  for (const [name, rates, ratios, goal] of [
    ['one-way', oneWay, result.oneWayRatio, 1.5],
    ['ping-pong', pingPong, result.pingPongRatio, 10],
  ] as const) {
    const ours = MESH_SUITE_NAMES.map((s) => `ours ${s} ${fmt(rates[s])} msg/s (${ratios[s].toFixed(2)}x)`).join(', ');
    log(`ratchet ${bytes} B ${name}: ${ours}; anchor AGT DoubleRatchet ${fmt(rates.agt)} msg/s (goal >= ${goal}x; medians of ${rounds} rounds)`);
  }
  return result;
}
