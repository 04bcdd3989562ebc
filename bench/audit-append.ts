// Benchmark: receipt append throughput with 1 chain vs 4 chains (ARCHITECTURE §6: appends must not serialize on one
// global lock), several appender instances racing like Function instances, against the local Cosmos server through
// the real SDK. Anchor, measured in the same run: plain SDK creates of receipt-sized documents (no chain logic).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { sha256Hex } from '../core/crypto/sha256-hex';
import { createCosmosClient } from '../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../adapters/cosmos/cosmos-receipt-store';
import { createMemoryReceiptStore } from '../adapters/memory/memory-receipt-store';
import { createMemorySecretSource } from '../adapters/memory/memory-secrets';
import { ReceiptAppender } from '../core/audit/append-receipt';
import { createChainReceiptSink } from '../core/audit/chain-receipt-sink';
import { chainNames } from '../core/audit/chain-select';
import { createSecretCheckpointSigner } from '../core/audit/checkpoint-signer';
import { trustedKeyMap } from '../core/audit/checkpoint';
import { verifyAuditLog } from '../core/audit/verify-chain';
import { isKarsError } from '../core/errors';
import { systemClock } from '../core/ports/clock.port';
import type { ReceiptStore } from '../core/ports/receipt-store.port';
import { redact } from '../core/secrets/redacted';
import { startCosmosServer } from '../infra/local/cosmos/start-cosmos-server';

export interface AuditAppendBenchOptions {
  /** Receipts appended per scenario. Default 400. */
  appends?: number;
  /** Appender instances racing on the store (each is one Function instance). Default 4. */
  instances?: number;
  /** Appends in flight per instance. Default 4. */
  concurrency?: number;
  /** Checkpoint interval. Default 64. */
  checkpointEvery?: number;
  /** Delay per store call in the memory+rtt model. Default 5 ms (an in-region Cosmos point write is a few ms). */
  rttMs?: number;
  /** Output sink for the human-readable lines. Default console.log. */
  log?: (line: string) => void;
}

export interface AppendScenario {
  /** cosmos-local: real SDK + local server (CPU-bound: server and client share this machine); memory: CPU cost only;
   * memory+rtt: memory with a fixed per-call delay standing in for an in-region Cosmos round trip (a model, labelled). */
  store: 'cosmos-local' | 'memory' | 'memory+rtt';
  chains: number;
  appends: number;
  perSec: number;
  /** Lost create races per append: the cost of contention. */
  conflictsPerAppend: number;
  p50Ms: number;
  p95Ms: number;
  /** The verifier passed on everything written under load (no fork, no gap). */
  verified: boolean;
}

/** One busy tenant through the edge's receipt sink (memory + modelled round trip): pinned to one chain or spread. */
export interface OneTenantScenario {
  chains: number;
  spread: boolean;
  perSec: number;
  p95Ms: number;
  verified: boolean;
}

export interface AuditAppendBenchResult {
  scenarios: AppendScenario[];
  oneTenant: OneTenantScenario[];
  anchor: { name: string; perSec: number };
  /** 4-chain over 1-chain throughput on Cosmos. */
  speedup: number;
}

/** Runs the scenarios and prints one line per figure beside the anchor. */
export async function benchAuditAppend(options?: AuditAppendBenchOptions): Promise<AuditAppendBenchResult> {
  const appends = options?.appends ?? 400;
  const instances = options?.instances ?? 4;
  const concurrency = options?.concurrency ?? 4;
  const rttMs = options?.rttMs ?? 5;
  const log = options?.log ?? ((line: string) => console.log(line));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('base64');
  const trustedKeys = trustedKeyMap([publicKey]);
  const secrets = createMemorySecretSource({ 'bench-audit-key': seed });
  const signer = createSecretCheckpointSigner(secrets, { secretName: 'bench-audit-key', clock: systemClock });
  const settings = { appends, instances, concurrency, checkpointEvery: options?.checkpointEvery ?? 64, signer, trustedKeys };

  const server = await startCosmosServer();
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  try {
    const containerFor = async (database: string) =>
      (await ensureCosmosContainers(client, database, [RECEIPTS_CONTAINER])).get(RECEIPTS_CONTAINER.id)!;

    // Anchor: the same number of creates, same parallelism, no chain logic at all.
    const raw = await containerFor('bench-raw');
    const lanes = instances * concurrency;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      while (next < appends) {
        next += 1;
        await raw.items.create({ id: randomUUID(), pk: `p${lane % 4}`, kind: 'bench.append', data: { lane } });
      }
    }));
    const anchor = { name: 'raw Cosmos SDK create, same parallelism', perSec: appends / ((performance.now() - t0) / 1000) };

    const scenarios: AppendScenario[] = [];
    for (const chains of [1, 4]) {
      const store = createCosmosReceiptStore(await containerFor(`bench-chains-${chains}`));
      scenarios.push(await runScenario('cosmos-local', store, chains, settings));
    }
    for (const chains of [1, 4]) {
      scenarios.push(await runScenario('memory', createMemoryReceiptStore().receipts, chains, { ...settings, appends: appends * 5 }));
    }
    for (const chains of [1, 4]) {
      scenarios.push(await runScenario('memory+rtt', withRoundTrip(createMemoryReceiptStore().receipts, rttMs), chains, settings));
    }
    for (const s of scenarios) {
      log(`audit append (${s.store === 'memory+rtt' ? `memory + ${rttMs} ms modelled round trip` : s.store}, ${instances} instances x ${concurrency} in flight, ${s.chains} chain${s.chains > 1 ? 's' : ''}): ` +
        `${s.perSec.toFixed(0)} receipts/s, p50 ${s.p50Ms.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms, ` +
        `${s.conflictsPerAppend.toFixed(2)} lost races/append, verified=${s.verified}` +
        (s.store === 'cosmos-local' ? ` | anchor: ${anchor.name} ${anchor.perSec.toFixed(0)} docs/s` : ''));
    }
    // One tenant's edge receipts: pinned to its chain (the earlier layout) or spread by request hash.
    const oneTenant: OneTenantScenario[] = [];
    for (const chains of [4, 16]) {
      for (const spread of [false, true]) {
        const s = await runScenario('memory+rtt', withRoundTrip(createMemoryReceiptStore().receipts, rttMs), chains, settings, (appender, n) => (
          createChainReceiptSink(appender, { spreadOverChains: spread }).append({
            kind: 'edge.webhook', partition: 'tenant-busy', atMs: n, requestHash: sha256Hex(String(n)),
            outcome: 'accepted', status: 202, subject: { hookId: 'hk-busy', deliveryId: `d-${n}` },
          })
        ));
        oneTenant.push({ chains, spread, perSec: s.perSec, p95Ms: s.p95Ms, verified: s.verified });
        log(`audit append, one tenant through the edge sink (memory + ${rttMs} ms modelled round trip, ${instances} instances x ${concurrency} in flight, ` +
          `${chains} chains, ${spread ? 'spread by request hash' : 'pinned to one chain'}): ${s.perSec.toFixed(0)} receipts/s, p95 ${s.p95Ms.toFixed(1)} ms, verified=${s.verified}`);
      }
    }
    const cosmos1 = scenarios.find((s) => s.store === 'cosmos-local' && s.chains === 1)!;
    const cosmos4 = scenarios.find((s) => s.store === 'cosmos-local' && s.chains === 4)!;
    const speedup = cosmos4.perSec / cosmos1.perSec;
    const rtt1 = scenarios.find((s) => s.store === 'memory+rtt' && s.chains === 1)!;
    const rtt4 = scenarios.find((s) => s.store === 'memory+rtt' && s.chains === 4)!;
    log(`audit append speedup 4 chains / 1 chain: cosmos-local ${speedup.toFixed(2)}x, ` +
      `memory + ${rttMs} ms round trip ${(rtt4.perSec / rtt1.perSec).toFixed(2)}x | anchor: 1 chain = 1 append in flight per instance`);
    return { scenarios, oneTenant, anchor, speedup };
  } finally {
    client.dispose();
    await server.stop();
  }
}

async function runScenario(
  storeName: AppendScenario['store'], inner: ReceiptStore, chains: number,
  settings: { appends: number; instances: number; concurrency: number; checkpointEvery: number;
    signer: ReturnType<typeof createSecretCheckpointSigner>; trustedKeys: ReturnType<typeof trustedKeyMap> },
  appendOne: (appender: ReceiptAppender, n: number) => Promise<unknown> = (appender, n) =>
    appender.append({ subject: `subject-${n % 64}`, kind: 'bench.append', outcome: 'accepted', data: { n, status: 200 } }),
): Promise<AppendScenario> {
  let conflicts = 0;
  const store = countingConflicts(inner, () => { conflicts += 1; });
  const layout = { prefix: 'bench', count: chains };
  const appenders = Array.from({ length: settings.instances }, () => new ReceiptAppender(store, {
    clock: systemClock, layout, signer: settings.signer, checkpointEvery: settings.checkpointEvery, maxAttempts: 200,
  }));
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(appenders.flatMap((appender) => Array.from({ length: settings.concurrency }, async () => {
    while (next < settings.appends) {
      const n = next;
      next += 1;
      const s = performance.now();
      await appendOne(appender, n);
      latencies.push(performance.now() - s);
    }
  })));
  const elapsedSec = (performance.now() - t0) / 1000;
  const report = await verifyAuditLog(inner, { trustedKeys: settings.trustedKeys, chains: chainNames(layout) });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    store: storeName, chains, appends: settings.appends, perSec: settings.appends / elapsedSec,
    conflictsPerAppend: conflicts / settings.appends, p50Ms: pct(0.5), p95Ms: pct(0.95),
    verified: report.ok && report.receipts === settings.appends,
  };
}

/** Delays every point operation by `ms`, like a network round trip; the verifier's listings are not delayed. */
function withRoundTrip(inner: ReceiptStore, ms: number): ReceiptStore {
  const rtt = <T>(call: () => Promise<T>): Promise<T> => new Promise((r) => setTimeout(r, ms)).then(call);
  return {
    createReceipt: (receipt, options) => rtt(() => inner.createReceipt(receipt, options)),
    readReceipt: (chain, seq, options) => rtt(() => inner.readReceipt(chain, seq, options)),
    readLastReceipt: (chain, options) => rtt(() => inner.readLastReceipt(chain, options)),
    listReceipts: (chain, options) => inner.listReceipts(chain, options),
    readHeadHint: (chain, options) => rtt(() => inner.readHeadHint(chain, options)),
    writeHeadHint: (hint, options) => rtt(() => inner.writeHeadHint(hint, options)),
    createCheckpoint: (cp, options) => rtt(() => inner.createCheckpoint(cp, options)),
    listCheckpoints: (chain, options) => inner.listCheckpoints(chain, options),
    registerChain: (chain, options) => rtt(() => inner.registerChain(chain, options)),
    listChains: (options) => rtt(() => inner.listChains(options)),
  };
}

/** Counts lost create races (STORE_CONFLICT) of a receipt store; shared with the concurrent-writers test. */
export function countingConflicts(inner: ReceiptStore, onConflict: () => void): ReceiptStore {
  return {
    createReceipt: async (receipt, options) => {
      try {
        await inner.createReceipt(receipt, options);
      } catch (e) {
        if (isKarsError(e) && e.code === 'STORE_CONFLICT') onConflict();
        throw e;
      }
    },
    readReceipt: (chain, seq, options) => inner.readReceipt(chain, seq, options),
    readLastReceipt: (chain, options) => inner.readLastReceipt(chain, options),
    listReceipts: (chain, options) => inner.listReceipts(chain, options),
    readHeadHint: (chain, options) => inner.readHeadHint(chain, options),
    writeHeadHint: (hint, options) => inner.writeHeadHint(hint, options),
    createCheckpoint: (cp, options) => inner.createCheckpoint(cp, options),
    listCheckpoints: (chain, options) => inner.listCheckpoints(chain, options),
    registerChain: (chain, options) => inner.registerChain(chain, options),
    listChains: (options) => inner.listChains(options),
  };
}
