// T1-I "API key in URL leaks via logs": the suite-wide canary guard fails any test file whose processes log a canary.
// Defends: secrets never in a log line (suite-wide canary guard), URI redacted before logging, header values redacted
// The guard (tests/setup/canary-guard.ts) sees every byte the suite's processes log — this worker's stdout/stderr and
// console (Error objects included), child processes and the services they start, in-memory log sinks — in every form
// a leak takes (raw, base64/base64url, hex, percent, JSON escapes, upper case, nested). Each planted leak is caught;
// run in a nested vitest, each leak fails its own file with the guard on and passes unnoticed with it off.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { _canaryGuardHits, _resetCanaryGuard, assertNoCanaryLeaks } from '../setup/canary-guard';
import { LEAKS, leak } from './fixtures/canary-leaks';

const KINDS = Object.keys(LEAKS);

describe('T1-I suite-wide canary guard, in this process', () => {
  it('stays quiet on lines without a canary (digests, tokens, base64, JSON, the word kcanary)', () => {
    _resetCanaryGuard();
    process.stdout.write('{"event":"ok","detail":"no secret here"}\n');
    process.stdout.write(`sha256 ${randomBytes(32).toString('hex')} b64 ${randomBytes(48).toString('base64')} kcanary-not-hex\n`);
    console.log(new Error('refused', { cause: { code: 'WEBHOOK_SIGNATURE_MISMATCH' } }));
    expect(_canaryGuardHits()).toEqual([]);
    expect(() => assertNoCanaryLeaks()).not.toThrow();
  });

  it.each(KINDS)('catches a leak: %s', async (kind) => {
    _resetCanaryGuard();
    await leak(kind);
    const hits = _canaryGuardHits();
    _resetCanaryGuard();
    expect(hits.length, kind).toBeGreaterThan(0);
    // The verdict names channel, form and a fingerprint, never the canary itself.
    for (const h of hits) expect(h).toMatch(/: kcanary#[0-9a-f]{8} \([a-z0-9+-]+\)$/);
  });

  it('names the channel and the form', async () => {
    const seen = async (kind: string): Promise<string[]> => {
      _resetCanaryGuard();
      await leak(kind);
      const hits = _canaryGuardHits();
      _resetCanaryGuard();
      return hits.map((h) => h.replace(/kcanary#[0-9a-f]{8} /, ''));
    };
    expect(await seen('base64url')).toEqual(['stdout: (base64)']);
    expect(await seen('percent-encoded base64')).toEqual(['stdout: (percent+base64)']);
    expect(await seen('hex')).toEqual(['stdout: (hex)']);
    expect(await seen('json-escape')).toEqual(['stdout: (json-escape)']);
    expect(await seen('log sink logger field')).toEqual(['log sink fixture: (raw)']);
    expect((await seen('child stdout (ignored)'))[0]).toMatch(/^child node \[\d+\] stdout: \(raw\)$/);
    // Inherited output is forwarded to this process's stderr untouched, and seen once, as the child's.
    expect((await seen('child stderr (inherited)'))[0]).toMatch(/^child node \[\d+\] stderr: \(raw\)$/);
    expect(await seen('Error cause')).toEqual(['console.warn: (raw)']);
  });

  it('fails the file through afterAll while a leak is recorded', async () => {
    _resetCanaryGuard();
    await leak('stdout raw');
    expect(() => assertNoCanaryLeaks()).toThrow(/canary secret logged by this test file \(T1-I\): stdout: kcanary#/);
    _resetCanaryGuard();
  });
});

describe('T1-I canary guard coverage of log sinks', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));

  it('no test gives the JSON logger a sink of its own: in-memory sinks come from tests/support/log-sink.ts (guarded)', () => {
    const own = files('tests').filter((f) => f !== join('tests', 'support', 'log-sink.ts') && /createJsonLogger\s*\(\s*\{[^}]*\bwrite\s*:/.test(readFileSync(f, 'utf8')));
    expect(own).toEqual([]);
  });
});

describe('T1-I canary guard, each leak in its own test file (nested vitest)', () => {
  const dir = resolve('.kars-local', `canary-leaks-${randomBytes(4).toString('hex')}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs one generated file per leak kind; the status of each file by kind. */
  function run(guard: 'on' | 'off'): Record<string, string> {
    mkdirSync(dir, { recursive: true });
    const fixture = resolve('tests/threats/fixtures/canary-leaks.ts');
    for (const [i, kind] of KINDS.entries()) {
      writeFileSync(join(dir, `${i}.leak.test.ts`), `import { it } from 'vitest';\nimport { leak } from ${JSON.stringify(fixture)};\n` +
        `it(${JSON.stringify(kind)}, async () => { await leak(${JSON.stringify(kind)}); });\n`);
    }
    const report = join(dir, `report-${guard}.json`);
    // The nested run's output holds the leaked canaries (that is the point): it goes to a file, not to this log.
    const out = join(dir, `output-${guard}.txt`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const fd = openSync(out, 'w');
    const r = spawnSync(process.execPath, [resolve('node_modules/vitest/vitest.mjs'), 'run', '--config', 'tests/threats/fixtures/vitest.canary-leaks.config.mts',
      '--reporter=json', `--outputFile=${report}`], {
      env: { ...env, KARS_CANARY_LEAKS_DIR: dir, KARS_CANARY_GUARD: guard },
      stdio: ['ignore', fd, fd],
      timeout: 120_000,
    });
    closeSync(fd);
    expect(r.error).toBeUndefined();
    const results = (JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ name: string; status: string; assertionResults: Array<{ title: string }> }> }).testResults;
    return Object.fromEntries(results.map((f) => [f.assertionResults[0]?.title ?? f.name, f.status]));
  }

  it('guard on: every leak fails its file; guard off: every leak passes unnoticed', () => {
    const expectAll = (status: string) => Object.fromEntries(KINDS.map((k) => [k, status]));
    expect(run('on')).toEqual(expectAll('failed'));
    expect(run('off')).toEqual(expectAll('passed'));
  }, 180_000);
});
