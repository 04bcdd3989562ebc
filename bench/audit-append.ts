// Benchmark: receipt append throughput in group commits (one entry per batch) beside one entry per receipt (the layout
// before batching), with 1 and 4 chains, several appender instances racing like Function instances: on the local
// Cosmos server through the real SDK (anchor in the same run: plain SDK creates, no chain logic) and on memory with a
// modelled 5 ms round trip. Then the verifier over 1,000,000 receipts in memory beside SHA-256 alone.
import { createHash, generateKeyPairSync, hash, randomUUID } from 'node:crypto';
import { createCosmosClient } from '../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../adapters/cosmos/cosmos-receipt-store';
import { createMemoryReceiptStore } from '../adapters/memory/memory-receipt-store';
import { createMemorySecretSource } from '../adapters/memory/memory-secrets';
import { ReceiptAppender } from '../core/audit/append-receipt';
import { chainNames } from '../core/audit/chain-select';
import { createSecretCheckpointSigner } from '../core/audit/checkpoint-signer';
import { trustedKeyMap } from '../core/audit/checkpoint';
import { GENESIS_HASH, MAX_ENTRY_RECEIPTS, PreparedBatch, PreparedReceipt, _buildLegacyReceipt } from '../core/audit/receipt';
import { ChainWalker, verifyAuditLog } from '../core/audit/verify-chain';
import { isKarsError } from '../core/errors';
import { systemClock } from '../core/ports/clock.port';
import type { AuditReceiptInput } from '../core/ports/receipt-log.port';
import type { ReceiptStore, StoredRecord } from '../core/ports/receipt-store.port';
import { redact } from '../core/secrets/redacted';
import { startCosmosServer } from '../infra/local/cosmos/start-cosmos-server';

export interface AuditAppendBenchOptions {
  /** Receipts per scenario with one entry per receipt (the layout before batching). Default 400. */
  appends?: number;
  /** Receipts per scenario with batches (they go much faster, so more are needed to measure). Default 8000. */
  batchedAppends?: number;
  /** Appender instances racing on the store (each is one Function instance). Default 4. */
  instances?: number;
  /** Appends in flight per instance (webhooks awaiting their receipt). Default 64. */
  concurrency?: number;
  /** Checkpoint interval (entries). Default 64. */
  checkpointEvery?: number;
  /** Delay per store call in the memory+rtt model. Default 5 ms (an in-region Cosmos point write is a few ms). */
  rttMs?: number;
  /** Receipts for the verifier figure (in memory). Default 1,000,000. */
  verifierReceipts?: number;
  /** Output sink for the human-readable lines. Default console.log. */
  log?: (line: string) => void;
}

export interface AppendScenario {
  /** cosmos-local: real SDK + local server (CPU-bound: server and client share this machine); memory: CPU cost only;
   * memory+rtt: memory with a fixed per-call delay standing in for an in-region Cosmos round trip (a model, labelled). */
  store: 'cosmos-local' | 'memory' | 'memory+rtt';
  /** batched: group commit (up to 256 receipts an entry); single: one entry per receipt (before batching). */
  mode: 'batched' | 'single';
  instances: number;
  /** Appends in flight per instance. */
  concurrency: number;
  chains: number;
  appends: number;
  perSec: number;
  /** Store writes of entries per receipt (lost races included). */
  entryWritesPerReceipt: number;
  /** Lost create races per entry written: the cost of contention. */
  conflictsPerEntry: number;
  p50Ms: number;
  p95Ms: number;
  /** The verifier passed on everything written under load (no fork, no gap), every receipt present. */
  verified: boolean;
}

export interface VerifierFigure {
  receipts: number;
  entries: number;
  ms: number;
  /** Anchor in the same run: SHA-256 alone over the same leaf encodings (the floor for any verifier). */
  sha256OnlyMs: number;
  /** Anchor in the same run: the walk over one-receipt entries (before batching), per receipt, scaled to `receipts`. */
  singleEntryMsScaled: number;
}

export interface AuditAppendBenchResult {
  scenarios: AppendScenario[];
  anchor: { name: string; perSec: number };
  verifier: VerifierFigure;
}

/** Runs the scenarios and prints one line per figure beside its anchor. */
export async function benchAuditAppend(options?: AuditAppendBenchOptions): Promise<AuditAppendBenchResult> {
  const appends = options?.appends ?? 400;
  const batchedAppends = options?.batchedAppends ?? 8000;
  const instances = options?.instances ?? 4;
  const concurrency = options?.concurrency ?? 64;
  const rttMs = options?.rttMs ?? 5;
  const log = options?.log ?? ((line: string) => console.log(line));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('base64');
  const trustedKeys = trustedKeyMap([publicKey]);
  const secrets = createMemorySecretSource({ 'bench-audit-key': seed });
  const signer = createSecretCheckpointSigner(secrets, { secretName: 'bench-audit-key', clock: systemClock });
  const settings = { instances, concurrency, checkpointEvery: options?.checkpointEvery ?? 64, signer, trustedKeys };
  const countOf = (mode: AppendScenario['mode']): number => (mode === 'batched' ? batchedAppends : appends);

  const server = await startCosmosServer();
  const client = createCosmosClient({ endpoint: server.endpoint, key: redact(server.key) });
  try {
    const containerFor = async (database: string) =>
      (await ensureCosmosContainers(client, database, [RECEIPTS_CONTAINER])).get(RECEIPTS_CONTAINER.id)!;

    // Anchor: plain creates of receipt-sized documents, same parallelism, no chain logic at all.
    const raw = await containerFor('bench-raw');
    const lanes = instances * concurrency;
    const rawCount = Math.max(appends, 800);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      while (next < rawCount) {
        next += 1;
        await raw.items.create({ id: randomUUID(), pk: `p${lane % 4}`, kind: 'bench.append', data: { lane } });
      }
    }));
    const anchor = { name: 'raw Cosmos SDK create, same parallelism', perSec: rawCount / ((performance.now() - t0) / 1000) };

    const scenarios: AppendScenario[] = [];
    let db = 0;
    for (const mode of ['single', 'batched'] as const) {
      for (const chains of [1, 4]) {
        const store = createCosmosReceiptStore(await containerFor(`bench-${mode}-${chains}-${(db += 1)}`));
        scenarios.push(await runScenario('cosmos-local', mode, store, chains, { ...settings, appends: countOf(mode) }));
      }
    }
    for (const mode of ['single', 'batched'] as const) {
      for (const chains of [1, 4]) {
        scenarios.push(await runScenario('memory+rtt', mode, withRoundTrip(createMemoryReceiptStore().receipts, rttMs), chains, { ...settings, appends: countOf(mode) }));
      }
    }
    // The same offered load from one instance: one chain's rate without races between writers.
    scenarios.push(await runScenario('memory+rtt', 'batched', withRoundTrip(createMemoryReceiptStore().receipts, rttMs), 1,
      { ...settings, instances: 1, concurrency: instances * concurrency, appends: countOf('batched') }));
    for (const mode of ['single', 'batched'] as const) {
      scenarios.push(await runScenario('memory', mode, createMemoryReceiptStore().receipts, 1, { ...settings, appends: countOf('batched') }));
    }
    const label = (s: AppendScenario): string => (s.store === 'memory+rtt' ? `memory + ${rttMs} ms modelled round trip` : s.store);
    for (const s of scenarios) {
      const single = scenarios.find((o) => o.store === s.store && o.chains === s.chains && o.mode === 'single');
      log(`audit append (${label(s)}, ${s.instances} instance${s.instances > 1 ? 's' : ''} x ${s.concurrency} in flight, ${s.chains} chain${s.chains > 1 ? 's' : ''}, ` +
        `${s.mode === 'batched' ? 'batched' : 'one entry per receipt'}): ${s.perSec.toFixed(0)} receipts/s, p50 ${s.p50Ms.toFixed(1)} ms, ` +
        `p95 ${s.p95Ms.toFixed(1)} ms, ${s.entryWritesPerReceipt.toFixed(3)} entry writes/receipt, ${s.conflictsPerEntry.toFixed(2)} lost races/entry, verified=${s.verified}` +
        (s.mode === 'batched' && single ? ` | beside one entry per receipt: ${single.perSec.toFixed(0)} receipts/s (${(s.perSec / single.perSec).toFixed(1)}x)` : '') +
        (s.store === 'cosmos-local' ? ` | anchor: ${anchor.name} ${anchor.perSec.toFixed(0)} docs/s (${(s.perSec / anchor.perSec).toFixed(2)}x)` : ''));
    }
    const verifier = benchVerifier(options?.verifierReceipts ?? 1_000_000);
    log(`audit verify (in memory, entries already read): ${verifier.receipts} receipts in ${verifier.entries} entries, ${verifier.ms.toFixed(0)} ms ` +
      `(${((verifier.ms * 1000) / verifier.receipts).toFixed(2)} us/receipt) | anchor: SHA-256 alone over the same leaves ${verifier.sha256OnlyMs.toFixed(0)} ms; ` +
      `one entry per receipt (before batching) ${verifier.singleEntryMsScaled.toFixed(0)} ms scaled`);
    return { scenarios, anchor, verifier };
  } finally {
    client.dispose();
    await server.stop();
  }
}

async function runScenario(
  storeName: AppendScenario['store'], mode: AppendScenario['mode'], inner: ReceiptStore, chains: number,
  settings: { appends: number; instances: number; concurrency: number; checkpointEvery: number;
    signer: ReturnType<typeof createSecretCheckpointSigner>; trustedKeys: ReturnType<typeof trustedKeyMap> },
): Promise<AppendScenario> {
  let conflicts = 0;
  let entryWrites = 0;
  const store = countingConflicts(inner, () => { conflicts += 1; }, () => { entryWrites += 1; });
  const layout = { prefix: 'bench', count: chains };
  const appenders = Array.from({ length: settings.instances }, () => new ReceiptAppender(store, {
    clock: systemClock, layout, signer: settings.signer, checkpointEvery: settings.checkpointEvery,
    // Throughput under saturation, not giving up, is measured here: a loser keeps retrying (the fairness read lets it in).
    maxAttempts: 100_000,
    ...(mode === 'single' ? { maxBatchReceipts: 1 } : {}),
  }));
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(appenders.flatMap((appender) => Array.from({ length: settings.concurrency }, async () => {
    while (next < settings.appends) {
      const n = next;
      next += 1;
      const s = performance.now();
      await appender.append({ subject: `subject-${n % 64}`, kind: 'bench.append', outcome: 'accepted', data: { n, status: 200 } });
      latencies.push(performance.now() - s);
    }
  })));
  const elapsedSec = (performance.now() - t0) / 1000;
  await Promise.all(appenders.map((a) => a.whenIdle()));
  const report = await verifyAuditLog(inner, { trustedKeys: settings.trustedKeys, chains: chainNames(layout) });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const successfulEntries = Math.max(1, entryWrites - conflicts);
  return {
    store: storeName, mode, instances: settings.instances, concurrency: settings.concurrency, chains, appends: settings.appends,
    perSec: settings.appends / elapsedSec,
    entryWritesPerReceipt: entryWrites / settings.appends, conflictsPerEntry: conflicts / successfulEntries,
    p50Ms: pct(0.5), p95Ms: pct(0.95), verified: report.ok && report.receipts === settings.appends,
  };
}

/**
 * The verifier over receipts already in memory, as a store listing would hand them over (parsed documents): edge-shaped
 * receipts in full entries of 256, beside SHA-256 alone over the same leaves and the one-receipt-per-entry walk.
 */
function benchVerifier(receipts: number): VerifierFigure {
  const chain = 'bench-00';
  const leafOf = (n: number): AuditReceiptInput => ({
    subject: `tenant-${n % 97}`, kind: 'edge.webhook', outcome: 'accepted',
    data: { atMs: 1_765_000_000_000 + n, requestHash: createHash('sha256').update(String(n)).digest('hex'), status: 202,
      subject: { hookId: 'hk-bench', deliveryId: `msg_${n}`, tenantId: `tenant-${n % 97}` } },
  });
  const records: StoredRecord[] = [];
  let tip = { seq: 0, hash: GENESIS_HASH };
  for (let n = 0; n < receipts; n += MAX_ENTRY_RECEIPTS) {
    const batch = new PreparedBatch(Array.from({ length: Math.min(MAX_ENTRY_RECEIPTS, receipts - n) }, (_, i) => new PreparedReceipt(leafOf(n + i))));
    const entry = batch.entryAfter(chain, tip.seq, tip.hash, 1_765_000_000_000 + n);
    records.push({ id: entry.id, body: { ...entry, docType: 'receipt' } });
    tip = { seq: entry.seq, hash: entry.hash };
  }
  const walker = new ChainWalker(chain);
  let t = performance.now();
  for (const r of records) if (walker.step(r)) throw new Error(`bench verifier: ${walker.broken?.kind ?? 'broken'}`);
  const ms = performance.now() - t;
  if (walker.receipts !== receipts) throw new Error('bench verifier: receipts missing');

  const encodings = records.flatMap((r) => (r.body['receipts'] as string[]).map((leaf) => `\u0000kars.audit.receipt.v2\n${leaf}`));
  t = performance.now();
  for (const e of encodings) hash('sha256', e, 'buffer');
  const sha256OnlyMs = performance.now() - t;

  const legacyCount = Math.min(receipts, 100_000);
  const legacy: StoredRecord[] = [];
  let previous = GENESIS_HASH;
  for (let n = 0; n < legacyCount; n += 1) {
    const r = _buildLegacyReceipt(chain, n, previous, 1_765_000_000_000 + n, leafOf(n));
    legacy.push({ id: r.id, body: { ...r, docType: 'receipt' } });
    previous = r.hash;
  }
  const legacyWalker = new ChainWalker(chain);
  t = performance.now();
  for (const r of legacy) if (legacyWalker.step(r)) throw new Error('bench verifier: legacy walk broken');
  const singleEntryMsScaled = ((performance.now() - t) * receipts) / legacyCount;
  return { receipts, entries: records.length, ms, sha256OnlyMs, singleEntryMsScaled };
}

/** Delays every point operation by `ms`, like a network round trip; the verifier's listings are not delayed. */
function withRoundTrip(inner: ReceiptStore, ms: number): ReceiptStore {
  const rtt = <T>(call: () => Promise<T>): Promise<T> => new Promise((r) => setTimeout(r, ms)).then(call);
  return {
    createEntry: (entry, options) => rtt(() => inner.createEntry(entry, options)),
    readEntry: (chain, seq, options) => rtt(() => inner.readEntry(chain, seq, options)),
    readLastEntry: (chain, options) => rtt(() => inner.readLastEntry(chain, options)),
    listEntries: (chain, options) => inner.listEntries(chain, options),
    readHeadHint: (chain, options) => rtt(() => inner.readHeadHint(chain, options)),
    writeHeadHint: (hint, options) => rtt(() => inner.writeHeadHint(hint, options)),
    createCheckpoint: (cp, options) => rtt(() => inner.createCheckpoint(cp, options)),
    listCheckpoints: (chain, options) => inner.listCheckpoints(chain, options),
    registerChain: (chain, options) => rtt(() => inner.registerChain(chain, options)),
    listChains: (options) => rtt(() => inner.listChains(options)),
  };
}

/** Counts entry creates and lost create races (STORE_CONFLICT) of a receipt store; shared with the concurrent-writers test. */
export function countingConflicts(inner: ReceiptStore, onConflict: () => void, onCreate: () => void = () => undefined): ReceiptStore {
  return {
    createEntry: async (entry, options) => {
      onCreate();
      try {
        await inner.createEntry(entry, options);
      } catch (e) {
        if (isKarsError(e) && e.code === 'STORE_CONFLICT') onConflict();
        throw e;
      }
    },
    readEntry: (chain, seq, options) => inner.readEntry(chain, seq, options),
    readLastEntry: (chain, options) => inner.readLastEntry(chain, options),
    listEntries: (chain, options) => inner.listEntries(chain, options),
    readHeadHint: (chain, options) => inner.readHeadHint(chain, options),
    writeHeadHint: (hint, options) => inner.writeHeadHint(hint, options),
    createCheckpoint: (cp, options) => inner.createCheckpoint(cp, options),
    listCheckpoints: (chain, options) => inner.listCheckpoints(chain, options),
    registerChain: (chain, options) => inner.registerChain(chain, options),
    listChains: (options) => inner.listChains(options),
  };
}
