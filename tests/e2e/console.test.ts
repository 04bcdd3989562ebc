// The operator console in a real browser (Debian's Chromium, headless) against `npm start` on free ports: each view
// renders live data from the stack, a webhook sent during the test appears in the edge view, a receipt looks up with
// its proof, the page logs no error and axe-core finds no serious or critical accessibility violation. With
// KARS_CONSOLE_SCREENSHOTS=<dir> it also saves one screenshot per view (docs/console.md).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sampleWebhookBody, signWebhookRequest } from '../../cli/commands/webhook-signing';
import { redact } from '../../core/secrets/redacted';
import { DEMO_HOOK_SECRETS } from '../../infra/local/host/demo-hooks';
import { newIssuer, signed } from '../core/trust/trust-fixture';
import { alive, stopStackProcess, type StackProcess } from './support/local-stack-process';
import { LOCAL_MASTER_KEY, launchChromium, openConsole, showView, startConsoleStack, type ConsolePage } from './support/console-browser';

const dataDir = mkdtempSync(join(tmpdir(), 'kars-e2e-console-'));
const shots = process.env['KARS_CONSOLE_SCREENSHOTS'];
let stack: StackProcess;
let browser: Browser;
let ui: ConsolePage;

async function refused(hookId: string): Promise<number> {
  const r = await fetch(`${stack.base}/api/hooks/standard/${hookId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return r.status;
}

/** A webhook signed with the DEV-ONLY demo secret: accepted (202). */
async function accepted(): Promise<number> {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const nowMs = Date.now();
  const { body } = sampleWebhookBody('standard', nowMs, id);
  const headers = signWebhookRequest('standard', redact(DEMO_HOOK_SECRETS['hk-demo-standard']), new TextEncoder().encode(body), { id, timestampSec: Math.floor(nowMs / 1000) });
  const r = await fetch(`${stack.base}/api/hooks/standard/hk-demo-standard`, { method: 'POST', headers, body });
  return r.status;
}

const TENANT = 'demo-tenant';
const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${stack.base}/api/${path}`, { ...init, headers: { 'content-type': 'application/json', 'x-functions-key': LOCAL_MASTER_KEY } });

/** A small endorsement graph through the real trust routes (signed updates, applied from the bus by the stack). */
async function plantTrustGraph(): Promise<void> {
  const issuer = newIssuer();
  expect((await admin(`manage/trust/issuers/${TENANT}`, { method: 'PUT', body: JSON.stringify({ keys: [issuer.key] }) })).status).toBe(200);
  const dids = ['did:web:alpha.example', 'did:web:beta.example', 'did:web:gamma.example', 'did:web:delta.example'];
  const edges = [[0, 1, 800], [1, 2, 600], [0, 2, 400], [2, 3, 700]] as const;
  const updates = edges.map(([a, b, weight]) => signed(issuer, Date.now(), { type: 'edge', from: dids[a]!, to: dids[b]!, weight }, { tenantId: TENANT }));
  updates.push(signed(issuer, Date.now(), { type: 'signal', observer: 'demo-sandbox', subject: dids[3]!, kind: 'explicit', delta: 150 }, { tenantId: TENANT }));
  expect((await admin('trust/updates', { method: 'POST', body: JSON.stringify({ updates }) })).status).toBe(202);
  await expect.poll(async () => {
    const r = (await (await admin(`trust/graph?tenant=${TENANT}`)).json()) as { graph?: { edges: unknown[] } };
    return r.graph?.edges.length ?? 0;
  }, { timeout: 30_000, interval: 250 }).toBe(edges.length);
}

async function axeSerious(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern (the page itself runs no inline script).
  await page.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
  return page.evaluate<string[]>(`axe.run(document).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ' (' + v.nodes.length + ')'))`);
}

async function snap(page: Page, view: string): Promise<void> {
  if (shots) await page.screenshot({ path: join(shots, `console-${view}.png`), fullPage: false, type: 'png' });
}

beforeAll(async () => {
  stack = await startConsoleStack(dataDir);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (stack) {
    await stopStackProcess(stack);
    for (const pid of Object.values(stack.pids)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('operator console in Chromium', () => {
  it('npm start prints the console URL', () => {
    expect(stack.output.join('\n')).toContain(`operator console: ${stack.base}/api/console/`);
  });

  it('serves the page with a strict CSP and no caching', async () => {
    const r = await fetch(`${stack.base}/api/console/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await r.text()).not.toMatch(/<script>|\son\w+=/);
    // The data is an operator route: without the key in its header, 401.
    expect((await fetch(`${stack.base}/api/console/data/edge`)).status).toBe(401);
  });

  it('renders the edge view from live receipts, and a webhook sent now appears', async () => {
    expect(await refused('hk-demo-standard')).toBe(401);
    expect(await accepted()).toBe(202);
    ui = await openConsole(browser, stack.base);
    const row = ui.page.locator('table tr', { hasText: 'hk-demo-standard' });
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const before = Number(await row.locator('td').nth(2).innerText());
    expect(before).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => Number(await row.locator('td').nth(1).innerText()), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    // Sent while the page is open: the view refreshes itself and counts it.
    expect(await refused('hk-demo-standard')).toBe(401);
    await expect.poll(async () => Number(await row.locator('td').nth(2).innerText()), { timeout: 20_000 }).toBe(before + 1);
    await expect.poll(() => ui.page.locator('table tr', { hasText: 'WEBHOOK_SIGNATURE_MISSING' }).count()).toBeGreaterThan(0);
    expect(await ui.page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await snap(ui.page, 'edge');
    expect(await axeSerious(ui.page)).toEqual([]);
  }, 90_000);

  it('renders the audit view: chain heads, verify, a receipt with its proof', async () => {
    await showView(ui.page, 'audit');
    const rows = await ui.page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const index = rows.findIndex((r) => Number(r[1]) > 0);
    expect(index).toBeGreaterThanOrEqual(0);
    const withHead = ui.page.locator('tbody tr').nth(index);
    const chain = rows[index]![0]!.trim();
    expect(chain).toMatch(/^audit-\d\d$/);
    await withHead.locator('button').click();
    await expect.poll(() => withHead.locator('.verdict').innerText(), { timeout: 20_000 }).toMatch(/^intact: \d+ receipts/);
    await ui.page.fill('#receipt-id', `${chain}:000000000001:000`);
    await ui.page.click('form.inline button[type=submit]');
    await expect.poll(() => ui.page.locator('pre[aria-label=Receipt]').innerText(), { timeout: 20_000 }).toContain('edge.webhook');
    await snap(ui.page, 'audit');
    expect(await axeSerious(ui.page)).toEqual([]);
  }, 60_000);

  it('renders the trust and rollout views', async () => {
    await plantTrustGraph();
    await showView(ui.page, 'trust');
    expect(await ui.page.locator('#trust-tenant').inputValue()).toBe(TENANT);
    expect(await ui.page.locator('svg.graph circle').count()).toBe(4);
    expect(await ui.page.locator('svg.graph line').count()).toBe(4);
    await ui.page.locator('svg.graph g').first().click();
    await expect.poll(() => ui.page.locator('#view table').count()).toBeGreaterThan(0);
    await snap(ui.page, 'trust');
    expect(await axeSerious(ui.page)).toEqual([]);
    await showView(ui.page, 'rollouts');
    await snap(ui.page, 'rollouts');
    expect(await axeSerious(ui.page)).toEqual([]);
  }, 60_000);

  it('logged no console error, page error or dialog', () => {
    expect(ui.errors).toEqual([]);
    expect(ui.dialogs).toEqual([]);
  });
});
