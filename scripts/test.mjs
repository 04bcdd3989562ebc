#!/usr/bin/env node
// `npm test`: build (CLI and end-to-end tests run the compiled JS), type-check everything including tests, run vitest,
// then print the line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env: process.env }).status === 0;
const extra = process.argv.slice(2);
let failed = 0;
let passed = 0;

if (!run('npx', ['tsc', '-p', 'tsconfig.build.json'])) failed++;
if (!run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])) failed++;

mkdirSync('.kars-local', { recursive: true });
const report = '.kars-local/vitest-report.json';
rmSync(report, { force: true });
const vitestOk = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that fails to load has no tests to count but is still a failure.
  failed += (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
} catch {
  failed++;
}
if (!vitestOk && failed === 0) failed++;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
