// Benchmark (operator console): page weight gzipped (goal ≤ 200 KB) beside the chart library alone, and the edge
// view's first render in headless Chromium with 10,000 edge receipts in the chains (goal ≤ 1 s) beside the same render
// over empty chains, same run. The console routes are served by the local host over the in-memory receipt store (the
// same DocumentReceiptStore the Cosmos adapter uses); the bundle is dist/console as `npm run build` leaves it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { createMemoryReceiptStore } from '../adapters/memory/memory-receipt-store';
import { ReceiptAppender } from '../core/audit/append-receipt';
import { createChainReceiptSink } from '../core/audit/chain-receipt-sink';
import { systemClock } from '../core/ports/clock.port';
import { silentLogger } from '../core/ports/logger.port';
import { buildConsoleDeps } from '../functions/console/build-console-deps';
import { createConsoleAssets, defaultConsoleDir } from '../functions/console/console-assets';
import { createConsoleRoutes } from '../functions/console/console-routes';
import { startLocalHost } from '../infra/local/host/local-host';

const LAYOUT = { prefix: 'audit', count: 4 };
const MASTER_KEY = 'bench-console-master-key';

export interface ConsoleBenchResult {
  pageGzipBytes: number;
  chartLibraryGzipBytes: number;
  receipts: number;
  /** Median ms from submitting the key to the edge view rendered, with `receipts` receipts and with none. */
  firstRenderMs: number;
  emptyRenderMs: number;
}

const gz = (buf: Buffer): number => gzipSync(buf, { level: 9 }).length;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function filledStore(receipts: number) {
  const { receipts: store } = createMemoryReceiptStore();
  const sink = createChainReceiptSink(new ReceiptAppender(store, { clock: systemClock, layout: LAYOUT }), { spreadOverChains: true });
  const now = Date.now();
  for (let i = 0; i < receipts; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, receipts - i) }, (_, j) => {
      const n = i + j;
      const refused = n % 5 === 0;
      return sink.append({
        kind: 'edge.webhook', partition: `tenant-${n % 7}`, atMs: now - (n % 3600) * 1000, requestHash: (n + 1).toString(16).padStart(64, '0'),
        outcome: refused ? 'rejected' : 'accepted', status: refused ? 401 : 202, ...(refused ? { code: 'WEBHOOK_SIGNATURE_MISMATCH' } : {}),
        subject: { method: 'POST', path: `/api/hooks/standard/hk-bench-${n % 12}`, channel: 'standard', hookId: `hk-bench-${n % 12}`, tenantId: `tenant-${n % 7}`, deliveryId: null, bodyDigest: null },
      });
    }));
  }
  return store;
}

async function renderTimes(receipts: number, runs: number, log: (l: string) => void): Promise<number[]> {
  const store = await filledStore(receipts);
  const deps = buildConsoleDeps({ store, layout: LAYOUT, trustedKeys: async () => new Map(), logger: silentLogger });
  const routes = createConsoleRoutes(async () => deps, createConsoleAssets(defaultConsoleDir));
  const host = await startLocalHost({ routes, keys: { functionKey: 'bench-fk', masterKey: MASTER_KEY }, logger: silentLogger, port: 0 });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      await page.goto(`${host.url}/api/console/`);
      await page.fill('#admin-key', MASTER_KEY);
      const started = performance.now();
      await page.click('#key-form button[type=submit]');
      await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset['rendered'] === 'edge');
      times.push(performance.now() - started);
      if (i === 0) log(`  (${receipts} receipts: view shows ${await page.locator('#view p').first().innerText()})`);
      await page.close();
    }
  } finally {
    await browser.close();
    await host.close();
  }
  return times;
}

export async function runConsoleBench(options: { receipts?: number; runs?: number; log?: (l: string) => void } = {}): Promise<ConsoleBenchResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const receipts = options.receipts ?? 10_000;
  const runs = options.runs ?? 5;
  const dir = defaultConsoleDir();
  const pageGzipBytes = ['index.html', 'app.js', 'app.css'].reduce((n, f) => n + gz(readFileSync(join(dir, f))), 0);
  const uplot = join('node_modules', 'uplot', 'dist');
  const chartLibraryGzipBytes = gz(readFileSync(join(uplot, 'uPlot.iife.min.js'))) + gz(readFileSync(join(uplot, 'uPlot.min.css')));
  log(`page weight ${(pageGzipBytes / 1024).toFixed(1)} KB gzipped (goal ≤ 200 KB); anchor: uPlot alone ${(chartLibraryGzipBytes / 1024).toFixed(1)} KB gzipped (ratio ${(pageGzipBytes / chartLibraryGzipBytes).toFixed(2)})`);
  // Alternate the two so background load on a shared machine hits both alike.
  const full: number[] = [];
  const empty: number[] = [];
  for (let round = 0; round < 2; round++) {
    empty.push(...(await renderTimes(0, Math.ceil(runs / 2), round === 0 ? log : () => undefined)));
    full.push(...(await renderTimes(receipts, Math.ceil(runs / 2), round === 0 ? log : () => undefined)));
  }
  const result = { pageGzipBytes, chartLibraryGzipBytes, receipts, firstRenderMs: median(full), emptyRenderMs: median(empty) };
  log(`first render of the edge view with ${receipts} receipts: ${result.firstRenderMs.toFixed(0)} ms median of ${full.length} (goal ≤ 1000 ms); anchor: empty chains ${result.emptyRenderMs.toFixed(0)} ms (ratio ${(result.firstRenderMs / Math.max(1, result.emptyRenderMs)).toFixed(2)})`);
  return result;
}
