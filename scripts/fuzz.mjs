#!/usr/bin/env node
// `npm run fuzz [-- --factor N] [-- --rounds N]`: the long property run. `npm test` runs every property with one fixed
// seed (tests/support/property.ts), so CI cannot fail by chance; this run looks for new counterexamples with a fresh
// random seed per property and N times the cases (default 50), for `rounds` rounds (default 1). A failure prints the
// KARS_PROPERTY_SEED / KARS_PROPERTY_PATH line that replays it; fix the code or the property, then add the
// counterexample as an example test.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`--${name} expected a positive integer`);
  return v;
};
const factor = arg('factor', 50);
const rounds = arg('rounds', 1);

const files = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.test.ts') ? [p] : [];
  });
const properties = files('tests').filter((f) => /\bassertProperty\(/.test(readFileSync(f, 'utf8')));

let failed = 0;
for (let round = 1; round <= rounds; round += 1) {
  console.log(`fuzz round ${round}/${rounds}: ${properties.length} files, ${factor}× cases, random seeds`);
  const r = spawnSync('npx', ['vitest', 'run', '--no-file-parallelism', ...properties], {
    stdio: 'inherit',
    env: { ...process.env, KARS_FUZZ: String(factor) },
  });
  if (r.status !== 0) failed += 1;
}
console.log(`fuzz: ${rounds - failed} of ${rounds} rounds passed`);
process.exit(failed === 0 ? 0 : 1);
