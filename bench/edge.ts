// Benchmark (issue 3): requests/s of the full T1 edge pipeline with in-memory ports behind node:http, against a bare
// node:http server that only checks a Standard Webhooks HMAC — same run, same client, 1 KiB signed bodies. Prints both
// rates, their ratio (goal ≥ 0.4), the per-request server CPU breakdown and the store writes per accepted webhook
// (closed loop; at steady 40 and 500 rps beside one entry per receipt), counted through the memory document stores
// under the registry, replay guard and audit receipt chain. Fairness: both servers read the body and
// answer from the same node:http; the client writes prebuilt request bytes on raw keep-alive sockets (node:http's own
// client costs more per request than the bare server and capped it), and a null server measured alongside shows the
// client's ceiling, so a client-bound anchor is visible instead of silently flattering the ratio.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createDocumentHookRegistry } from '../adapters/edge/document-hook-registry';
import { createDocumentReplayGuard } from '../adapters/edge/document-replay-guard';
import { createLocalEdgeLimiter } from '../adapters/edge/local-edge-limiter';
import { createSharedEdgeLimiter } from '../adapters/edge-limiter/shared-edge-limiter';
import { createJsonLogger } from '../adapters/logging/json-logger';
import { MemoryDocumentStore } from '../adapters/memory/memory-document-store';
import { createMemoryEdgeQueue, type MemoryEdgeQueue } from '../adapters/memory/memory-edge-queue';
import { meterDocumentStore, type MeteredDocumentStore } from '../adapters/memory/memory-edge-store-meter';
import { createMemorySecretSource } from '../adapters/memory/memory-secrets';
import { ReceiptAppender } from '../core/audit/append-receipt';
import { createChainReceiptSink } from '../core/audit/chain-receipt-sink';
import { DocumentReceiptStore } from '../core/audit/document-receipt-store';
import type { EdgePipelineDeps, EdgePipelineOptions, EdgeRequest } from '../core/edge/edge-types';
import type { DocumentStore } from '../core/ports/document-store.port';
import { publicResponse } from '../core/edge/public-response';
import { createEdgePipeline, type EdgePipeline } from '../core/edge/run-edge-pipeline';
import { perSecond } from '../core/limits/token-bucket';
import { systemClock } from '../core/ports/clock.port';
import { silentLogger } from '../core/ports/logger.port';
import { redact } from '../core/secrets/redacted';
import { createHookRoutes } from '../functions/hooks/hook-routes';
import { startLocalHost } from '../infra/local/host/local-host';

export interface EdgeBenchOptions {
  /** Measuring time per server, split into alternating slices (see `rounds`). Default 3000 ms. */
  durationMs?: number;
  /**
   * Slices per server. The servers are measured in turn (bare, pipeline, host, bare, …) so that background load on a
   * shared machine hits all of them alike instead of whichever ran while it spiked. Default 6.
   */
  rounds?: number;
  /** Warm-up per server before measuring. Default 500 ms. */
  warmupMs?: number;
  /** Requests for the shared-limiter write count (simulated clock, no HTTP). Default 2000. */
  sharedLimiterRequests?: number;
  /** Requests in flight (keep-alive connections). Default 16. */
  concurrency?: number;
  /** Requests for the in-process cost per request (no HTTP). Default 8000, scaled with `durationMs`. */
  inProcessRequests?: number;
  /** Requests per variant and round in the breakdown figure. Default 3000, scaled with `durationMs`. */
  breakdownRequests?: number;
  /** Forged requests per mode in the pre-auth flood figure. Default 5000, scaled with `durationMs`. */
  preAuthFloodRequests?: number;
  /** Modelled store round trip for the write counts at steady rates. Default 5 ms. */
  storeRttMs?: number;
  /** Seconds of offered load per rate in that figure. Default 2. */
  rateSeconds?: number;
  log?: (line: string) => void;
}

export interface EdgeBenchResult {
  /** The edge pipeline (every step, memory ports) behind a plain node:http server: the figure the goal applies to. */
  pipelinePerSec: number;
  /** The anchor: a plain node:http server that only checks the HMAC. */
  barePerSec: number;
  /** pipelinePerSec / barePerSec (goal ≥ 0.6). */
  ratio: number;
  /**
   * The client's ceiling: a node:http server that reads the body and answers 202 without any check. When the anchor
   * comes close to it (barePerSec / ceilingPerSec ≥ 0.9), the anchor is client-bound and the ratio flatters.
   */
  ceilingPerSec: number;
  /** Server CPU per request without HTTP, one request at a time (steadier than the rates on a shared machine). */
  inProcess: { pipelineUsPerRequest: number; hmacUsPerRequest: number };
  /**
   * Where the in-process time goes: µs per request saved by leaving one part out (its step switched off, or its port
   * replaced by one that does nothing), medians over alternating rounds. Parts interact, so savings do not add up.
   */
  breakdown: Record<BreakdownPart, number>;
  /**
   * A flood of forged requests against one real hook, in process at full speed, with the pre-auth guard on (default
   * budgets) and off: receipt-store writes per forged request (one each without the guard).
   */
  preAuthFlood: { requests: number; on: { receiptWritesPerRequest: number; usPerRequest: number }; off: { receiptWritesPerRequest: number; usPerRequest: number } };
  /** The same pipeline behind the local Functions host (HttpRequest/HttpResponse emulation, web streams): informative. */
  hostPerSec: number;
  accepted: number;
  storeWritesPerAccepted: number;
  /** The parts of storeWritesPerAccepted. */
  writes: { replayClaims: number; receiptChain: number; registry: number };
  /** Queue sends per accepted webhook (a broker, not a store; reported apart). */
  queueSendsPerAccepted: number;
  /**
   * Store writes per accepted webhook at steady offered rates (40 and 500 rps), every store behind a modelled round
   * trip (`storeRttMs`), batched and with one entry per receipt (before batching) in the same run.
   */
  atRates: RateFigure[];
  /**
   * Server CPU per request under the load, from the main thread's event-loop utilisation (the client runs in a worker
   * thread): µs of busy time per answered request for each server, and the main thread's GC pause time per request
   * during the pipeline's slices.
   */
  serverCpu: { ceilingUs: number; bareUs: number; pipelineUs: number; pipelineGcUs: number; bareGcUs: number };
  /** Steady 40 rps through the pipeline with the shared (Azure) limiter over the store, T1-D limits, one instance. */
  withSharedLimiter: { storeWritesPerAccepted: number; limiterWritesPerAccepted: number; accepted: number };
  errors: number;
}

const SECRET = `whsec_${Buffer.alloc(32, 0x5a).toString('base64')}`;
const KEY = Buffer.alloc(32, 0x5a);
const BODY_BYTES = 1024;

function bodyOf(n: number): Buffer {
  // A unique, schema-valid Standard Webhooks envelope of exactly 1 KiB (n is zero-padded so the size never moves).
  const head = `{"type":"kars.bench","timestamp":"2026-01-01T00:00:00Z","data":{"n":"${String(n).padStart(12, '0')}","pad":"`;
  const tail = '"}}';
  const body = Buffer.from(head + 'x'.repeat(BODY_BYTES - head.length - tail.length) + tail);
  if (body.length !== BODY_BYTES) throw new Error('bench body is not 1 KiB');
  return body;
}

function signed(n: number, timestampSec = Math.floor(Date.now() / 1000)): { body: Buffer; headers: Record<string, string> } {
  const body = bodyOf(n);
  const id = `msg_bench_${process.pid}_${n}`;
  const ts = String(timestampSec);
  const mac = createHmac('sha256', KEY).update(`${id}.${ts}.`).update(body).digest('base64');
  return {
    body,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${mac}` },
  };
}

/** The anchor: reads the body, checks the Standard Webhooks HMAC in constant time, answers 202. */
function startBareServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const id = String(req.headers['webhook-id'] ?? '');
      const ts = String(req.headers['webhook-timestamp'] ?? '');
      const offered = Buffer.from(String(req.headers['webhook-signature'] ?? '').slice(3), 'base64');
      const mac = createHmac('sha256', KEY).update(`${id}.${ts}.`).update(body).digest();
      const ok = offered.length === mac.length && timingSafeEqual(offered, mac);
      const text = ok ? '{"receiptId":"bare"}' : '{"code":"AUTH_REQUIRED"}';
      res.writeHead(ok ? 202 : 401, { 'content-type': 'application/json', 'content-length': String(text.length) });
      res.end(text);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The client's ceiling: the anchor's HTTP work (body read and concatenated, same answer) without the HMAC check. */
function startNullServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Buffer.concat(chunks);
      const text = '{"receiptId":"null"}';
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': String(text.length) });
      res.end(text);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The pipeline behind a plain node:http server: the same socket handling as the anchor, plus every edge step. */
function startPipelineServer(pipeline: EdgePipeline): Promise<Server> {
  const server = createServer((req, res) => {
    const [, , , channel = '', hookId = ''] = (req.url ?? '').split('?')[0]!.split('/');
    pipeline.handle(nodeEdgeRequest(req, channel, hookId)).then((outcome) => {
      const out = publicResponse(outcome);
      res.writeHead(out.status, { ...out.headers, 'content-length': String(Buffer.byteLength(out.body)) });
      res.end(out.body);
    }, () => {
      res.writeHead(500);
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function nodeEdgeRequest(req: IncomingMessage, channel: string, hookId: string): EdgeRequest {
  const header = (name: string): string | undefined => {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    method: req.method ?? 'POST',
    url: `http://127.0.0.1${req.url ?? '/'}`,
    channel,
    hookId,
    header,
    headerEntries: () => Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)] as const),
    body: bufferedBody(req),
  };
}

/**
 * The request body as chunks, taken straight from the stream's buffer while there are any (a small webhook is there
 * whole by the time the handler runs) and waiting for `readable`/`end` only when there are none. The generic async
 * iterator of a Readable costs ≈ 13 µs per request here; the anchor reads its body from events, without one.
 */
function bufferedBody(req: IncomingMessage): AsyncIterable<Uint8Array> {
  // A client that hangs up between reads must not crash the bench: the next read sees the stream destroyed.
  req.on('error', () => undefined);
  const done = (): IteratorResult<Uint8Array> => ({ value: undefined, done: true });
  const next = (): Promise<IteratorResult<Uint8Array>> => {
    const chunk = req.read() as Buffer | null;
    if (chunk !== null) return Promise.resolve({ value: chunk, done: false });
    // `complete`: the parser has the whole message, so an empty buffer means the end (without waiting a tick for it).
    if (req.readableEnded || req.destroyed || (req.complete && req.readableLength === 0)) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        req.off('readable', settle);
        req.off('end', settle);
        req.off('error', fail);
        next().then(resolve, reject);
      };
      const fail = (e: Error): void => {
        req.off('readable', settle);
        req.off('end', settle);
        reject(e);
      };
      req.on('readable', settle);
      req.on('end', settle);
      req.once('error', fail);
    });
  };
  return {
    [Symbol.asyncIterator]: () => ({
      next,
      // Leaving early (body over the cap): stop reading; the pipeline answers and closes the connection.
      return: () => {
        req.destroy();
        return Promise.resolve(done());
      },
    }),
  };
}

interface LoadResult {
  ok: number;
  errors: number;
  ms: number;
}

/**
 * Runs the load generator in a worker thread, so the client does not share the server's event loop (on the
 * two-core reference machine each gets a core). `first` keeps delivery ids unique across runs.
 */
function loadInWorker(url: string, durationMs: number, concurrency: number, counter: { n: number }): Promise<LoadResult> {
  // Under a TypeScript test runner this file cannot be a worker's entry: fall back to the same loop in-process.
  if (__filename.endsWith('.ts')) return load(url, durationMs, concurrency, counter);
  const first = counter.n;
  counter.n += 10_000_000;
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { kind: LOAD_WORKER, url, durationMs, concurrency, first } });
    worker.once('message', (r: LoadResult) => resolve(r));
    worker.once('error', reject);
  });
}

const LOAD_WORKER = 'kars-edge-bench-load';

/** One signed request as the bytes on the wire (HTTP/1.1 keep-alive). */
function requestBytes(target: URL, n: number): Buffer {
  const { body, headers } = signed(n);
  let head = `POST ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
}

const CONTENT_LENGTH_RE = /\r\ncontent-length: *(\d+)/i;
const CONNECTION_CLOSE_RE = /\r\nconnection: *close/i;

/**
 * Closed-loop load: `concurrency` keep-alive connections, each writing the next signed request as soon as the previous
 * answer is complete. Raw sockets and a minimal response parser (status line, Content-Length): every server here
 * answers with a Content-Length, and a response without one counts as an error.
 */
async function load(url: string, durationMs: number, concurrency: number, counter: { n: number }): Promise<LoadResult> {
  const target = new URL(url);
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const connection = (): Promise<void> => new Promise((resolve) => {
    let socket: Socket;
    let buffered: Buffer = Buffer.alloc(0);
    let waiting = false;
    const open = (): void => {
      buffered = Buffer.alloc(0);
      socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      socket.on('connect', next);
      socket.on('data', onData);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (!waiting) return;
        // The server closed with a request outstanding: count it, then carry on on a new connection.
        waiting = false;
        errors += 1;
        if (performance.now() < deadline) open();
        else resolve();
      });
    };
    const next = (): void => {
      if (performance.now() >= deadline) {
        socket.end();
        resolve();
        return;
      }
      waiting = true;
      socket.write(requestBytes(target, counter.n++));
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.toString('latin1', 0, end);
      const length = CONTENT_LENGTH_RE.exec(head);
      if (length === null) {
        waiting = false;
        errors += 1;
        socket.destroy();
        if (performance.now() < deadline) open();
        else resolve();
        return;
      }
      const total = end + 4 + Number(length[1]);
      if (buffered.length < total) return;
      buffered = buffered.subarray(total);
      waiting = false;
      if (head.startsWith('HTTP/1.1 202 ')) ok += 1;
      else errors += 1;
      if (CONNECTION_CLOSE_RE.test(head)) {
        socket.destroy();
        if (performance.now() < deadline) open();
        else resolve();
        return;
      }
      next();
    };
    open();
  });
  await Promise.all(Array.from({ length: concurrency }, connection));
  return { ok, errors, ms: performance.now() - started };
}

/**
 * Store writes per accepted webhook when the limiter is the shared one (as in Azure): `n` requests at a steady 40 rps
 * (below T1-D's 50 rps per agent) on a simulated clock, straight into the pipeline.
 */
async function writesWithSharedLimiter(n: number): Promise<EdgeBenchResult['withSharedLimiter']> {
  let t = Date.now();
  const clock = { nowMs: () => t };
  const hookStore = meterDocumentStore(new MemoryDocumentStore({ clock }));
  const replayStore = meterDocumentStore(new MemoryDocumentStore({ clock }));
  const receiptDocs = meterDocumentStore(new MemoryDocumentStore({ clock }));
  const limitStore = meterDocumentStore(new MemoryDocumentStore({ clock }));
  const registry = createDocumentHookRegistry(hookStore, createMemorySecretSource(), { clock });
  await registry.create({ hookId: 'hk-bench-2', tenantId: 'tenant-bench', sandboxId: 'sandbox-bench', channel: 'standard', allowedEventTypes: ['kars.bench'], secret: redact(SECRET) });
  const pipeline = createEdgePipeline({
    registry,
    replayGuard: createDocumentReplayGuard(replayStore),
    limiter: createSharedEdgeLimiter(limitStore, { instances: 1, clock }),
    queue: createMemoryEdgeQueue(),
    receipts: createChainReceiptSink(new ReceiptAppender(new DocumentReceiptStore(receiptDocs), { clock })),
    clock,
    logger: silentLogger,
  });
  for (const s of [hookStore, replayStore, receiptDocs, limitStore]) s.reset();
  let accepted = 0;
  for (let i = 0; i < n; i += 1) {
    const { body, headers } = signed(50_000_000 + i, Math.floor(t / 1000));
    const h = new Headers(headers);
    const outcome = await pipeline.handle({
      method: 'POST', url: 'http://127.0.0.1/api/hooks/standard/hk-bench-2', channel: 'standard', hookId: 'hk-bench-2',
      header: (name: string) => h.get(name) ?? undefined, headerEntries: () => h.entries(), body: [body],
    } as unknown as EdgeRequest);
    if (outcome.status === 202) accepted += 1;
    t += 25;
  }
  const per = (w: number): number => w / Math.max(1, accepted);
  return {
    accepted,
    limiterWritesPerAccepted: per(limitStore.counts.writes),
    storeWritesPerAccepted: per(hookStore.counts.writes + replayStore.counts.writes + receiptDocs.counts.writes + limitStore.counts.writes),
  };
}

/** Every call of a DocumentStore delayed by `ms` (a modelled store round trip); the meter underneath counts the calls. */
function withStoreRoundTrip(inner: DocumentStore, ms: number): DocumentStore {
  return new Proxy(inner, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => new Promise((r) => setTimeout(r, ms)).then(() => (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

/**
 * Store writes per accepted webhook at a steady offered rate (open loop: requests start on schedule, whether or not
 * earlier ones have answered), every store behind a modelled round trip: the replay claim is one write per webhook;
 * the receipts of the webhooks that arrive while their chain's write is in flight share the next entry. Beside it, the
 * same run with one entry per receipt (the layout before batching).
 */
async function writesAtRate(rps: number, requests: number, rttMs: number, batched: boolean): Promise<RateFigure> {
  const hooks = meterDocumentStore(new MemoryDocumentStore());
  const replay = meterDocumentStore(new MemoryDocumentStore());
  const receipts = meterDocumentStore(new MemoryDocumentStore());
  const registry = createDocumentHookRegistry(withStoreRoundTrip(hooks, rttMs), createMemorySecretSource());
  const hookId = `hk-rate-${rps}`;
  await registry.create({ hookId, tenantId: 'tenant-bench', sandboxId: 'sandbox-bench', channel: 'standard', allowedEventTypes: ['kars.bench'], secret: redact(SECRET) });
  const unlimited = perSecond(1_000_000, 1_000_000);
  const appender = new ReceiptAppender(new DocumentReceiptStore(withStoreRoundTrip(receipts, rttMs)), {
    clock: systemClock, ...(batched ? {} : { maxBatchReceipts: 1 }),
  });
  const pipeline = createEdgePipeline({
    registry,
    replayGuard: createDocumentReplayGuard(withStoreRoundTrip(replay, rttMs)),
    limiter: createLocalEdgeLimiter({ global: unlimited, agent: unlimited, tenantBudget: { requestRate: unlimited } }),
    queue: createMemoryEdgeQueue(),
    receipts: createChainReceiptSink(appender),
    clock: systemClock,
    logger: silentLogger,
  });
  const send = (n: number): Promise<number> => {
    const { body, headers } = signed(n);
    return pipeline.handle({
      method: 'POST', url: `http://127.0.0.1/api/hooks/standard/${hookId}`, channel: 'standard', hookId,
      header: (name) => headers[name], headerEntries: () => Object.entries(headers), body: [body] as unknown as AsyncIterable<Uint8Array>,
    }).then((o) => o.status);
  };
  await send(60_000_000 - rps); // warm: the registry cache and the chain tip
  await appender.whenIdle();
  for (const s of [hooks, replay, receipts]) s.reset();
  const started = performance.now();
  const answers: Promise<number>[] = [];
  for (let i = 0; i < requests; i += 1) {
    const due = started + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    answers.push(send(60_000_000 + rps * 10_000 + i));
  }
  const statuses = await Promise.all(answers);
  await appender.whenIdle();
  const accepted = statuses.filter((st) => st === 202).length;
  const per = (w: number): number => w / Math.max(1, accepted);
  const achievedRps = requests / ((performance.now() - started) / 1000);
  return {
    rps, achievedRps, accepted, batched,
    storeWritesPerAccepted: per(hooks.counts.writes + replay.counts.writes + receipts.counts.writes),
    replayClaims: per(replay.counts.writes), receiptChain: per(receipts.counts.writes),
  };
}

interface RateFigure {
  rps: number;
  achievedRps: number;
  accepted: number;
  batched: boolean;
  storeWritesPerAccepted: number;
  replayClaims: number;
  receiptChain: number;
}

/** Memory ports under the real adapters, limits far above any offered load, the real JSON logger into a sink. */
async function benchDeps(hookId: string): Promise<{ deps: EdgePipelineDeps; stores: { hooks: MeteredDocumentStore; replay: MeteredDocumentStore; receipts: MeteredDocumentStore }; queue: MemoryEdgeQueue }> {
  const stores = {
    hooks: meterDocumentStore(new MemoryDocumentStore()),
    replay: meterDocumentStore(new MemoryDocumentStore()),
    receipts: meterDocumentStore(new MemoryDocumentStore()),
  };
  const queue = createMemoryEdgeQueue();
  const registry = createDocumentHookRegistry(stores.hooks, createMemorySecretSource());
  await registry.create({ hookId, tenantId: 'tenant-bench', sandboxId: 'sandbox-bench', channel: 'standard', allowedEventTypes: ['kars.bench'], secret: redact(SECRET) });
  const unlimited = perSecond(1_000_000, 1_000_000);
  const deps: EdgePipelineDeps = {
    registry,
    replayGuard: createDocumentReplayGuard(stores.replay),
    // The bench measures the pipeline, not the limiter refusing it.
    limiter: createLocalEdgeLimiter({ global: unlimited, agent: unlimited, tenantBudget: { requestRate: unlimited } }),
    queue,
    receipts: createChainReceiptSink(new ReceiptAppender(new DocumentReceiptStore(stores.receipts), { clock: systemClock })),
    clock: systemClock,
    logger: createJsonLogger({ write: () => undefined, component: 'bench' }),
  };
  return { deps, stores, queue };
}

/**
 * Server CPU per request without HTTP: the pipeline (fresh memory ports) and the anchor's HMAC check, one request at a
 * time, after a warm-up. Bodies arrive as one chunk, as a small webhook does from the socket.
 */
async function inProcessCost(requests: number): Promise<EdgeBenchResult['inProcess']> {
  const { deps } = await benchDeps('hk-bench-3');
  const pipeline = createEdgePipeline(deps);
  const prepared = Array.from({ length: requests }, (_, i) => signed(90_000_000 + i));
  const edgeRequestOf = ({ body, headers }: ReturnType<typeof signed>): EdgeRequest => ({
    method: 'POST', url: 'http://127.0.0.1/api/hooks/standard/hk-bench-3', channel: 'standard', hookId: 'hk-bench-3',
    header: (name) => headers[name], headerEntries: () => Object.entries(headers),
    // for await takes an array too: the body as one chunk, without an async generator around it.
    body: [body] as unknown as AsyncIterable<Uint8Array>,
  });
  const warm = Math.floor(requests / 4);
  for (const r of prepared.slice(0, warm)) await pipeline.handle(edgeRequestOf(r));
  let started = performance.now();
  for (const r of prepared.slice(warm)) {
    const outcome = await pipeline.handle(edgeRequestOf(r));
    if (outcome.status !== 202) throw new Error(`in-process bench request answered ${outcome.status}`);
  }
  const pipelineUsPerRequest = ((performance.now() - started) * 1000) / (requests - warm);
  let matched = 0;
  started = performance.now();
  for (const { body, headers } of prepared) {
    const offered = Buffer.from(headers['webhook-signature']!.slice(3), 'base64');
    const mac = createHmac('sha256', KEY).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`).update(body).digest();
    if (offered.length === mac.length && timingSafeEqual(offered, mac)) matched += 1;
  }
  const hmacUsPerRequest = ((performance.now() - started) * 1000) / requests;
  if (matched !== requests) throw new Error('in-process HMAC check failed');
  return { pipelineUsPerRequest, hmacUsPerRequest };
}

export const BREAKDOWN_PARTS = ['receipt', 'signature', 'schema', 'replay', 'limits', 'queue', 'log'] as const;
export type BreakdownPart = (typeof BREAKDOWN_PARTS)[number];

/** How each part is left out: a step switched off, or a port that does nothing. */
function without(part: BreakdownPart | 'none', deps: EdgePipelineDeps): { deps: EdgePipelineDeps; options: EdgePipelineOptions } {
  let receipts = 0;
  switch (part) {
    case 'receipt':
      return { deps: { ...deps, receipts: { append: async () => `audit-00:${String((receipts += 1)).padStart(12, '0')}` } }, options: {} };
    case 'queue':
      return { deps: { ...deps, queue: { enqueue: async () => undefined } }, options: {} };
    case 'log':
      return { deps: { ...deps, logger: silentLogger }, options: {} };
    case 'signature':
    case 'schema':
    case 'replay':
    case 'limits':
      return { deps, options: { _disable: [part] } };
    default:
      return { deps, options: {} };
  }
}

/** The breakdown figure: the full pipeline and each part left out, in alternating rounds on fresh memory ports. */
async function inProcessBreakdown(requests: number, rounds = 3): Promise<EdgeBenchResult['breakdown']> {
  const variants = ['none', ...BREAKDOWN_PARTS] as const;
  const samples = new Map<(typeof variants)[number], number[]>(variants.map((v) => [v, []]));
  let n = 70_000_000;
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of variants) {
      const { deps: base } = await benchDeps('hk-bench-5');
      const { deps, options } = without(variant, base);
      const pipeline = createEdgePipeline(deps, options);
      const run = async (count: number): Promise<number> => {
        const started = performance.now();
        for (let i = 0; i < count; i += 1) {
          const { body, headers } = signed((n += 1));
          const outcome = await pipeline.handle({
            method: 'POST', url: 'http://127.0.0.1/api/hooks/standard/hk-bench-5', channel: 'standard', hookId: 'hk-bench-5',
            header: (name) => headers[name], headerEntries: () => Object.entries(headers), body: [body] as unknown as AsyncIterable<Uint8Array>,
          });
          if (outcome.status !== 202) throw new Error(`breakdown request answered ${outcome.status}`);
        }
        return performance.now() - started;
      };
      await run(Math.floor(requests / 4));
      // Signing is the client's work: measured alone and taken off.
      const signStarted = performance.now();
      for (let i = 0; i < requests; i += 1) signed(n + 1 + i);
      const signMs = performance.now() - signStarted;
      samples.get(variant)!.push((((await run(requests)) - signMs) * 1000) / requests);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const full = median(samples.get('none')!);
  return Object.fromEntries(BREAKDOWN_PARTS.map((part) => [part, full - median(samples.get(part)!)])) as Record<BreakdownPart, number>;
}

/** Receipt-store writes per forged request with and without the pre-auth guard (in process, real clock). */
async function preAuthFloodCost(requests: number): Promise<EdgeBenchResult['preAuthFlood']> {
  const forgedKey = Buffer.alloc(32, 0x66);
  const run = async (guard: boolean): Promise<{ receiptWritesPerRequest: number; usPerRequest: number }> => {
    const { deps, stores } = await benchDeps('hk-bench-4');
    const pipeline = createEdgePipeline(deps, guard ? {} : { _disable: ['preauth-guard'] });
    stores.receipts.reset();
    const started = performance.now();
    for (let i = 0; i < requests; i += 1) {
      const body = bodyOf(80_000_000 + i);
      const id = `msg_forged_${i}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts,
        'webhook-signature': `v1,${createHmac('sha256', forgedKey).update(`${id}.${ts}.`).update(body).digest('base64')}`,
      };
      const outcome = await pipeline.handle({
        method: 'POST', url: 'http://127.0.0.1/api/hooks/standard/hk-bench-4', channel: 'standard', hookId: 'hk-bench-4',
        header: (name) => headers[name], headerEntries: () => Object.entries(headers), body: [body] as unknown as AsyncIterable<Uint8Array>,
      });
      if (outcome.status !== 401 && outcome.status !== 429) throw new Error(`forged request answered ${outcome.status}`);
    }
    const usPerRequest = ((performance.now() - started) * 1000) / requests;
    await pipeline.flushRefusalSummaries();
    return { receiptWritesPerRequest: stores.receipts.counts.writes / requests, usPerRequest };
  };
  return { requests, on: await run(true), off: await run(false) };
}

/** Runs the servers in this process, in alternating slices, with the same client (in a worker thread). */
export async function runEdgeBench(options: EdgeBenchOptions = {}): Promise<EdgeBenchResult> {
  const durationMs = options.durationMs ?? 3000;
  const warmupMs = options.warmupMs ?? 500;
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? ((line: string) => console.log(line));
  const counter = { n: 0 };
  // Shorter runs (tests) take smaller in-process samples too.
  const scaled = (n: number): number => Math.max(1000, Math.round((n * durationMs) / 3000));

  const { deps, stores, queue } = await benchDeps('hk-bench-1');
  const ceiling = await startNullServer();
  const bare = await startBareServer();
  const edge = await startPipelineServer(createEdgePipeline(deps));
  const host = await startLocalHost({ routes: createHookRoutes(deps).routes, keys: { functionKey: 'bench-fk', masterKey: 'bench-mk' }, logger: silentLogger, port: 0 });
  const path = '/api/hooks/standard/hk-bench-1';
  const urlOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  try {
    const targets = [urlOf(ceiling), urlOf(bare), urlOf(edge), `${host.url}${path}`];
    for (const url of targets) await loadInWorker(url, warmupMs, concurrency, counter);
    for (const store of Object.values(stores)) store.reset();
    const sentBefore = queue.deliveries.length;
    const totals = targets.map(() => ({ ok: 0, errors: 0, ms: 0, busyMs: 0, gcMs: 0 }));
    const rounds = options.rounds ?? 6;
    // GC pauses on this (the servers') thread, attributed to the slice they fall in.
    let gcMs = 0;
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcMs += entry.duration;
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    for (let round = 0; round < rounds; round += 1) {
      for (const [i, url] of targets.entries()) {
        const elu = performance.eventLoopUtilization();
        const gcBefore = gcMs;
        const r = await loadInWorker(url, durationMs / rounds, concurrency, counter);
        totals[i]!.busyMs += performance.eventLoopUtilization(elu).active;
        totals[i]!.gcMs += gcMs - gcBefore;
        totals[i]!.ok += r.ok;
        totals[i]!.errors += r.errors;
        totals[i]!.ms += r.ms;
      }
    }
    gcObserver.disconnect();
    type SliceTotals = LoadResult & { busyMs: number; gcMs: number };
    const [c, b, p, h] = totals as [SliceTotals, SliceTotals, SliceTotals, SliceTotals];
    const usPer = (ms: number, r: SliceTotals): number => (ms * 1000) / Math.max(1, r.ok + r.errors);
    // Both pipeline servers accept; writes are per webhook accepted by either.
    const accepted = p.ok + h.ok;
    const sent = queue.deliveries.length - sentBefore;
    const writes = {
      replayClaims: stores.replay.counts.writes / Math.max(1, accepted),
      receiptChain: stores.receipts.counts.writes / Math.max(1, accepted),
      registry: stores.hooks.counts.writes / Math.max(1, accepted),
    };
    const perSec = (r: { ok: number; ms: number }): number => (r.ok / r.ms) * 1000;
    const result: EdgeBenchResult = {
      pipelinePerSec: perSec(p),
      barePerSec: perSec(b),
      ratio: perSec(p) / perSec(b),
      ceilingPerSec: perSec(c),
      inProcess: await inProcessCost(options.inProcessRequests ?? scaled(8000)),
      breakdown: await inProcessBreakdown(options.breakdownRequests ?? scaled(3000)),
      preAuthFlood: await preAuthFloodCost(options.preAuthFloodRequests ?? scaled(5000)),
      hostPerSec: perSec(h),
      accepted,
      storeWritesPerAccepted: writes.replayClaims + writes.receiptChain + writes.registry,
      writes,
      queueSendsPerAccepted: sent / Math.max(1, accepted),
      withSharedLimiter: await writesWithSharedLimiter(options.sharedLimiterRequests ?? 2000),
      serverCpu: {
        ceilingUs: usPer(c.busyMs, c), bareUs: usPer(b.busyMs, b), pipelineUs: usPer(p.busyMs, p),
        pipelineGcUs: usPer(p.gcMs, p), bareGcUs: usPer(b.gcMs, b),
      },
      atRates: [],
      errors: c.errors + b.errors + p.errors + h.errors,
    };
    const anchorShare = result.barePerSec / result.ceilingPerSec;
    log(`edge: full pipeline, memory ports, node:http     ${result.pipelinePerSec.toFixed(0)} req/s (1 KiB signed bodies, ${concurrency} connections, ${rounds} alternating slices)`);
    log(`edge: anchor bare node:http + HMAC check         ${result.barePerSec.toFixed(0)} req/s (same run, same client)`);
    log(`edge: ratio ${result.ratio.toFixed(2)} (goal >= 0.4)`);
    log(`edge: client ceiling (node:http, body read, no check) ${result.ceilingPerSec.toFixed(0)} req/s; anchor at ${(anchorShare * 100).toFixed(0)} % of it${anchorShare >= 0.9 ? ' (anchor client-bound: the ratio flatters the pipeline)' : ''}`);
    log(`edge: in process, no HTTP: pipeline ${result.inProcess.pipelineUsPerRequest.toFixed(0)} us/request, anchor's HMAC check ${result.inProcess.hmacUsPerRequest.toFixed(1)} us/request`);
    const parts = BREAKDOWN_PARTS.map((part) => `${part} ${result.breakdown[part].toFixed(0)}`).join(', ');
    log(`edge: where the in-process time goes (us per request saved by leaving one part out; they overlap): ${parts}`);
    const flood = result.preAuthFlood;
    log(`edge: pre-auth flood (${flood.requests} forged requests, one hook, in process): receipt writes per request ${flood.on.receiptWritesPerRequest.toFixed(3)} with the guard, ${flood.off.receiptWritesPerRequest.toFixed(3)} without (${flood.on.usPerRequest.toFixed(0)} vs ${flood.off.usPerRequest.toFixed(0)} us/request)`);
    log(`edge: same pipeline behind the local Functions host ${result.hostPerSec.toFixed(0)} req/s (ratio ${(result.hostPerSec / result.barePerSec).toFixed(2)}; HttpRequest/web-stream emulation, informative)`);
    log(`edge: store writes per accepted webhook ${result.storeWritesPerAccepted.toFixed(2)} (goal <= 3): replay claim ${writes.replayClaims.toFixed(2)}, receipt chain ${writes.receiptChain.toFixed(2)}, registry ${writes.registry.toFixed(2)}; plus ${result.queueSendsPerAccepted.toFixed(2)} queue send`);
    const cpu = result.serverCpu;
    log(`edge: server CPU per request under load (main-thread busy time / answered requests): client ceiling ${cpu.ceilingUs.toFixed(0)} us, ` +
      `anchor ${cpu.bareUs.toFixed(0)} us (HMAC ${Math.max(0, cpu.bareUs - cpu.ceilingUs).toFixed(0)} over the HTTP floor), pipeline ${cpu.pipelineUs.toFixed(0)} us = ` +
      `HTTP floor ${cpu.ceilingUs.toFixed(0)} + pipeline in process ${result.inProcess.pipelineUsPerRequest.toFixed(0)} + adapter/scheduling remainder ` +
      `${(cpu.pipelineUs - cpu.ceilingUs - result.inProcess.pipelineUsPerRequest).toFixed(0)}; GC pauses ${cpu.pipelineGcUs.toFixed(1)} us/request (anchor ${cpu.bareGcUs.toFixed(1)})`);
    const rttMs = options.storeRttMs ?? 5;
    const seconds = options.rateSeconds ?? 2;
    for (const rps of [40, 500]) {
      for (const batched of [true, false]) result.atRates.push(await writesAtRate(rps, Math.round(rps * seconds), rttMs, batched));
      const [on, off] = result.atRates.slice(-2) as [RateFigure, RateFigure];
      log(`edge: store writes per accepted webhook at ${rps} rps offered (${on.achievedRps.toFixed(0)} achieved; every store behind a ${rttMs} ms modelled round trip): ` +
        `${on.storeWritesPerAccepted.toFixed(2)} (replay claim ${on.replayClaims.toFixed(2)}, receipt chain ${on.receiptChain.toFixed(2)}) ` +
        `| beside one entry per receipt: ${off.storeWritesPerAccepted.toFixed(2)} (receipt chain ${off.receiptChain.toFixed(2)})`);
    }
    const shared = result.withSharedLimiter;
    log(`edge: with the shared limiter (Azure; 1 instance, steady 40 rps, T1-D limits) ${shared.storeWritesPerAccepted.toFixed(2)} store writes per accepted webhook (limiter ${shared.limiterWritesPerAccepted.toFixed(2)}; ${shared.accepted} accepted)`);
    if (result.errors > 0) log(`edge: ${result.errors} requests were not answered 202`);
    return result;
  } finally {
    await host.close();
    for (const server of [ceiling, bare, edge]) await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  }
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === LOAD_WORKER) {
  const job = workerData as { url: string; durationMs: number; concurrency: number; first: number };
  void load(job.url, job.durationMs, job.concurrency, { n: job.first }).then((r) => parentPort?.postMessage(r));
} else if (require.main === module) {
  runEdgeBench().catch((e: unknown) => {
    console.error(`edge bench failed: ${e instanceof Error ? e.message : 'unknown error'}`);
    process.exitCode = 1;
  });
}
