#!/usr/bin/env node
// Per-row mutation review (docs/mutation-review.md): for every mitigation, the row's own attack tests must fail when
// that mitigation's code is broken. Each break in tests/mutations/breaks.json is applied to a temporary copy of the
// repository (never to this one), and only that row's tests/threats/ files (as docs/threat-model.md lists them) run
// against it; a break the row's tests pass with is "unnoticed".
//   node scripts/mutation-review.mjs [--row T1-T] [--id T2,T3] [--check] [--all-failures]
// --check only verifies that every break still applies (its text occurs exactly once), without running tests.
// By default a row's files run in parallel and stop at the first failure. --all-failures runs them one at a time to
// the end and lists every failing test: on a loaded machine a timing-sensitive test can fail for its own reasons, and
// the list shows whether the test that attacks the broken mitigation is among the failures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const onlyRow = opt('--row');
const onlyIds = opt('--id')?.split(',');
const checkOnly = args.includes('--check');
const allFailures = args.includes('--all-failures');

const breaks = JSON.parse(readFileSync(join(root, 'tests/mutations/breaks.json'), 'utf8'))
  .filter((b) => (onlyRow === undefined || b.row === onlyRow) && (onlyIds === undefined || onlyIds.includes(b.id)));

/** The tests/threats/ files the threat model lists for a row. */
function rowFiles(row) {
  const line = readFileSync(join(root, 'docs/threat-model.md'), 'utf8').split('\n').find((l) => l.startsWith(`| ${row} |`));
  if (line === undefined) throw new Error(`row ${row} not in docs/threat-model.md`);
  const tests = line.split('|')[5] ?? '';
  return [...tests.matchAll(/`(tests\/threats\/[^`]+)`/g)].map((m) => m[1]);
}

function edits(b) {
  return b.edits ?? [{ find: b.find, replace: b.replace }];
}

function apply(dir, b) {
  const path = join(dir, b.file);
  let text = readFileSync(path, 'utf8');
  for (const e of edits(b)) {
    const count = text.split(e.find).length - 1;
    if (count !== 1) throw new Error(`${b.id}: the text to break occurs ${count} times in ${b.file}`);
    text = text.replace(e.find, () => e.replace);
  }
  writeFileSync(path, text);
}

if (checkOnly) {
  const dir = mkdtempSync(join(tmpdir(), 'kars-mutation-check-'));
  try {
    for (const b of breaks) {
      const target = join(dir, b.id);
      spawnSync('mkdir', ['-p', join(target, b.file, '..')]);
      writeFileSync(join(target, b.file), readFileSync(join(root, b.file)));
      apply(target, b);
      if (rowFiles(b.row).length === 0) throw new Error(`${b.id}: row ${b.row} lists no tests/threats/ files`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${breaks.length} breaks apply`);
  process.exit(0);
}

const copy = mkdtempSync(join(tmpdir(), 'kars-mutation-'));
const results = [];
try {
  // The repository without its heavy or generated parts; node_modules is linked, not copied.
  const tar = spawnSync('sh', ['-c', `tar -C "${root}" --exclude=./node_modules --exclude=./.git --exclude=./dist --exclude=./.kars-local -cf - . | tar -C "${copy}" -xf -`], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error('copy failed');
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  for (const b of breaks) {
    const original = readFileSync(join(copy, b.file));
    apply(copy, b);
    const files = rowFiles(b.row);
    const report = join(copy, `.mutation-${b.id}.json`);
    const started = Date.now();
    const mode = allFailures ? ['--no-file-parallelism'] : ['--bail=1'];
    const run = spawnSync('npx', ['vitest', 'run', ...mode, '--reporter=json', `--outputFile=${report}`, ...files], { cwd: copy, encoding: 'utf8' });
    writeFileSync(join(copy, b.file), original);
    let failing = [];
    if (existsSync(report)) {
      const r = JSON.parse(readFileSync(report, 'utf8'));
      failing = (r.testResults ?? []).flatMap((f) => (f.assertionResults ?? []).filter((a) => a.status === 'failed')
        .map((a) => `${f.name.replace(`${copy}/`, '')} > ${a.title}`));
      if (failing.length === 0) failing = (r.testResults ?? []).filter((f) => f.status === 'failed').map((f) => `${f.name.replace(`${copy}/`, '')} (load error)`);
    }
    const caught = run.status !== 0;
    const line = { id: b.id, row: b.row, mitigation: b.mitigation, break: b.break, caught, by: caught ? failing[0] ?? '(vitest failed)' : '', seconds: Math.round((Date.now() - started) / 1000) };
    results.push(line);
    console.log(`${b.id} ${b.row} ${b.mitigation}: ${caught ? `caught by ${line.by}` : 'UNNOTICED'} (${line.seconds} s)`);
    if (allFailures) for (const f of failing.slice(1)) console.log(`  also failing: ${f}`);
  }
} finally {
  rmSync(copy, { recursive: true, force: true });
}
const unnoticed = results.filter((r) => !r.caught);
console.log(`${results.length - unnoticed.length} of ${results.length} breaks caught by their row's attack tests`);
for (const u of unnoticed) console.log(`unnoticed: ${u.id} ${u.row} ${u.mitigation}: ${u.break}`);
process.exit(unnoticed.length === 0 ? 0 : 1);
