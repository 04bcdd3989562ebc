#!/usr/bin/env node
// Bundles the operator console (web/console/) into dist/console/: app.js (with uPlot) and app.css by esbuild, and
// index.html as it is. KARS_CONSOLE_UNSAFE_HTML is defined false, so the innerHTML branch of web/console/dom.ts is
// not in the bundle (only tests/threats build one with it, to show the attack it stops).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

export async function buildConsole({ outdir = 'dist/console', unsafeHtml = false, entry = 'app.js' } = {}) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { [entry.replace(/\.js$/, '')]: 'web/console/main.ts' },
    bundle: true, minify: true, format: 'iife', target: 'es2022', outdir, logLevel: 'warning', legalComments: 'none',
    define: { KARS_CONSOLE_UNSAFE_HTML: unsafeHtml ? 'true' : 'false' },
  });
  if (entry !== 'app.js') return;
  await build({ entryPoints: { app: 'web/console/app.css' }, bundle: true, minify: true, outdir, logLevel: 'warning' });
  copyFileSync('web/console/index.html', `${outdir}/index.html`);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildConsole();
