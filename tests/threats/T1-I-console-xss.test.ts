// Operator console (T1-I console surface): data planted by an attacker renders inert in a real browser.
// Defends: values rendered as text (textContent, never innerHTML), strict CSP (no inline script, frame-ancestors 'none'), no secret in the page or its data
// Payloads go in through the real edge (a probe's request path: the one attacker-chosen text an edge receipt keeps;
// it arrives with `<` and `>` percent-encoded, so only entities and javascript: URLs get through), through the receipt store itself
// (a writer with store access: hook ids and paths with `<img onerror>`, `<script>`, `javascript:` and entities — the
// verifier treats stored bodies as untrusted, so must the console) and at the trust routes (DIDs and tenant ids are
// refused before storage). In Chromium the safe bundle shows each payload as literal text: no element injected, no
// script run, no dialog. Then the controls come off one at a time: a bundle built with text rendering off (innerHTML)
// injects the elements but the CSP still stops the script; with the CSP header stripped as well, the script runs.
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiptAppender } from '../../core/audit/append-receipt';
import { createChainReceiptSink } from '../../core/audit/chain-receipt-sink';
import { systemClock } from '../../core/ports/clock.port';
import { redact } from '../../core/secrets/redacted';
import { createCosmosClient } from '../../adapters/cosmos/cosmos-client';
import { createCosmosReceiptStore } from '../../adapters/cosmos/cosmos-receipt-store';
import { alive, stopStackProcess, type StackProcess } from '../e2e/support/local-stack-process';
import { LOCAL_MASTER_KEY, launchChromium, openConsole, startConsoleStack, type ConsolePage } from '../e2e/support/console-browser';

const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
const dataDir = mkdtempSync(join(tmpdir(), 'kars-console-xss-'));
const bundleDir = mkdtempSync(join(tmpdir(), 'kars-console-unsafe-'));

const EXEC = `<img class=kars-xss src=x onerror="window.__karsXss=1;alert('xss')">`;
const SCRIPT = `<b>kars-b</b><script>window.__karsXss=2</script>`;
const JS_URL = `javascript:alert(document.domain)`;
const ENTITY = `&lt;img src=x onerror=alert(3)&gt;`;
/**
 * Edge path segments: a tag (the host's URL parsing percent-encodes `<` and `>`, so it arrives as `%3Cb%3E`), a
 * javascript: URL, an entity without ';' (the edge strips ;-parameters).
 */
const EDGE_TAG = '<b>kars-edge-b';
const EDGE_TAG_AS_STORED = '%3Cb%3Ekars-edge-b';
const EDGE_JS = 'javascript:alert(1)';
const EDGE_ENTITY = '&ltb&gtkars-entity';

let stack: StackProcess;
let browser: Browser;

/** A raw request line: node:http sends `<` and `>` as they are, as any attacker's client can (fetch would encode them). */
function rawPost(base: string, path: string): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

/** Receipts written by someone with write access to the receipt store (not through the edge). */
async function plantInStore(cosmosPort: number): Promise<void> {
  const client = createCosmosClient({ endpoint: `http://127.0.0.1:${cosmosPort}`, key: redact(sample.Values['KARS_COSMOS_KEY']!) });
  try {
    const store = createCosmosReceiptStore(client.database('kars').container('receipts'));
    const appender = new ReceiptAppender(store, { clock: systemClock, layout: { prefix: 'audit', count: 4 } });
    const sink = createChainReceiptSink(appender);
    // The console labels a receipt by its hook id, or by its path when the request named no valid hook.
    for (const [hookId, path] of [[EXEC, '/x'], [null, SCRIPT], [JS_URL, '/y'], [null, ENTITY]] as const) {
      await sink.append({
        kind: 'edge.webhook', partition: 'demo-tenant', atMs: Date.now(), requestHash: 'c'.repeat(64), outcome: 'rejected', status: 401,
        code: 'WEBHOOK_SIGNATURE_MISSING',
        subject: { method: 'POST', path, channel: 'standard', hookId, tenantId: 'demo-tenant', deliveryId: null, bodyDigest: null },
      });
    }
  } finally {
    client.dispose();
  }
}

interface Seen {
  injected: number;
  executed: unknown;
  text: string;
}

async function observe(ui: ConsolePage): Promise<Seen> {
  await expect.poll(() => ui.page.locator('#view table').first().count(), { timeout: 20_000 }).toBeGreaterThan(0);
  // Give a handler that would fire (a failing image load) the time to do so.
  await ui.page.waitForTimeout(1500);
  return {
    injected: await ui.page.locator('#view img, #view b, #view script').count(),
    executed: await ui.page.evaluate('window.__karsXss'),
    text: await ui.page.locator('#view').innerText(),
  };
}

async function unsafeBundle(page: Page): Promise<void> {
  const unsafe = readFileSync(join(bundleDir, 'app-unsafe.js'));
  await page.route('**/api/console/app.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: unsafe }));
}

async function withoutCsp(page: Page): Promise<void> {
  await page.route('**/api/console/', async (route) => {
    const res = await route.fetch();
    const headers = { ...res.headers() };
    delete headers['content-security-policy'];
    await route.fulfill({ response: res, headers });
  });
}

beforeAll(async () => {
  const { buildConsole } = (await import('../../scripts/build-console.mjs' as string)) as { buildConsole(o: object): Promise<void> };
  await buildConsole({ outdir: bundleDir, unsafeHtml: true, entry: 'app-unsafe.js' });
  stack = await startConsoleStack(dataDir);
  browser = await launchChromium();
  for (const segment of [EDGE_TAG, EDGE_JS, EDGE_ENTITY]) expect(await rawPost(stack.base, `/api/hooks/standard/${segment}`)).toBeGreaterThanOrEqual(400);
  await plantInStore(stack.ports['cosmos']!);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (stack) {
    await stopStackProcess(stack);
    for (const pid of Object.values(stack.pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

describe('console XSS (T1-I console surface)', () => {
  it('the trust routes refuse markup in DIDs and tenant ids before storing anything', async () => {
    const headers = { 'x-functions-key': LOCAL_MASTER_KEY, 'content-type': 'application/json' };
    const graph = await fetch(`${stack.base}/api/trust/graph?tenant=${encodeURIComponent(SCRIPT)}`, { headers });
    expect(graph.status).toBe(400);
    const score = await fetch(`${stack.base}/api/trust/scores/${encodeURIComponent(`did:mesh:${EXEC}`)}?tenant=demo-tenant&observer=x`, { headers });
    expect(score.status).toBe(400);
  });

  it('with the controls on, every planted payload shows as literal text and nothing runs', async () => {
    const ui = await openConsole(browser, stack.base);
    const seen = await observe(ui);
    for (const p of [EXEC, SCRIPT, JS_URL, ENTITY, EDGE_JS, EDGE_ENTITY]) expect(seen.text, p).toContain(p);
    expect(seen.text).toContain(EDGE_TAG_AS_STORED);
    expect(seen.injected).toBe(0);
    expect(seen.executed).toBeUndefined();
    expect(ui.dialogs).toEqual([]);
    expect(ui.errors).toEqual([]);
    await ui.page.context().close();
  }, 90_000);

  it('with text rendering off, the markup is injected but the CSP still blocks the script', async () => {
    const ui = await openConsole(browser, stack.base, unsafeBundle);
    const seen = await observe(ui);
    expect(seen.injected).toBeGreaterThan(0);
    expect(await ui.page.locator('#view img.kars-xss').count()).toBeGreaterThan(0);
    expect(await ui.page.locator('#view b').count()).toBeGreaterThan(0);
    expect(seen.executed).toBeUndefined();
    expect(ui.dialogs).toEqual([]);
    await ui.page.context().close();
  }, 90_000);

  it('with text rendering and the CSP off, the planted script runs', async () => {
    const ui = await openConsole(browser, stack.base, async (page) => { await unsafeBundle(page); await withoutCsp(page); });
    const seen = await observe(ui);
    expect(seen.executed).toBe(1);
    expect(ui.dialogs).toContain('xss');
    await ui.page.context().close();
  }, 90_000);

  it('puts no key, secret or token in the page, its script or its data', async () => {
    const canaries = [
      LOCAL_MASTER_KEY, sample.Values['KARS_LOCAL_FUNCTION_KEY']!, sample.Values['KARS_COSMOS_KEY']!,
      'whsec_', 'DEV-ONLY-kars-demo', 'PRIVATE KEY', 'AccountKey=',
    ];
    const auth = { 'x-functions-key': LOCAL_MASTER_KEY };
    const bodies = await Promise.all([
      fetch(`${stack.base}/api/console/`).then((r) => r.text()),
      fetch(`${stack.base}/api/console/app.js`).then((r) => r.text()),
      fetch(`${stack.base}/api/console/app.css`).then((r) => r.text()),
      fetch(`${stack.base}/api/console/data/edge`, { headers: auth }).then((r) => r.text()),
      fetch(`${stack.base}/api/console/data/audit/chains`, { headers: auth }).then((r) => r.text()),
      fetch(`${stack.base}/api/console/data/audit/verify?chain=audit-00`, { headers: auth }).then((r) => r.text()),
    ]);
    for (const body of bodies) for (const c of canaries) expect(body.includes(c), c).toBe(false);
  });
});
