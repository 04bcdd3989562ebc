// Drives the operator console in Debian's Chromium (/usr/bin/chromium, headless; no browser download) through
// playwright-core, against a local stack started on free ports. Collects console errors, page errors and dialogs so
// a test can assert there were none.
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePortEnv, startStackProcess, type StackProcess } from './local-stack-process';

export const CHROMIUM = '/usr/bin/chromium';
const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
/** The local host's DEV-ONLY master key (local.settings.sample.json): what an operator types into the console locally. */
export const LOCAL_MASTER_KEY = sample.Values['KARS_LOCAL_MASTER_KEY']!;

export function startConsoleStack(dataDir: string): Promise<StackProcess> {
  return startStackProcess({ ...freePortEnv(dataDir), KARS_LOCAL_MODEL_PORT: '0', KARS_LOCAL_ROUTER_PORT: '0', KARS_LOCAL_ROUTER_B_PORT: '0' });
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: the tests run as root in CI containers, where Chromium's own sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** The few page globals the tests read (the project's type-check has no DOM library). */
interface PageGlobals {
  document: { body: { dataset: Record<string, string | undefined> } };
}

export interface ConsolePage {
  page: Page;
  /** console.error messages and uncaught page errors. */
  errors: string[];
  dialogs: string[];
}

export async function openConsole(browser: Browser, base: string, setUp?: (page: Page) => Promise<void>): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  if (setUp) await setUp(page);
  await page.goto(`${base}/api/console/`);
  // Locally the data routes want the admin key: the page asks for it once (401 → the key form).
  await page.locator('#admin-key').waitFor({ state: 'visible' });
  await page.fill('#admin-key', LOCAL_MASTER_KEY);
  await page.click('#key-form button[type=submit]');
  await waitForView(page, 'edge');
  return { page, errors, dialogs };
}

/** Shows a view and waits until it has rendered from live data. */
export async function showView(page: Page, view: string): Promise<void> {
  // Page-side code as strings: the project's type-check has no DOM library.
  await page.evaluate('delete document.body.dataset.rendered');
  await page.click(`nav button[data-view=${view}]`);
  await waitForView(page, view);
}

export async function waitForView(page: Page, view: string): Promise<void> {
  // A function, not a string: the page's CSP (no 'unsafe-eval') refuses a polled string expression.
  await page.waitForFunction((v) => (globalThis as unknown as PageGlobals).document.body.dataset['rendered'] === v, view, { timeout: 30_000 });
}
