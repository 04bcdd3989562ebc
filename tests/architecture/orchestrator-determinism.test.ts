// Durable orchestrators are replayed from their history, so they must not read the clock, randomness, the environment
// or the network, nor await: every orchestrator registered in functions/ (and every file it imports for values) is
// scanned; planted files prove the scan finds each kind, also two imports deep.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tsFiles } from './import-graph';
import { orchestratorEntries, scanOrchestrator, scanSource } from './orchestrator-determinism';

const registrars = tsFiles('functions').filter((f) => /registerOrchestration\(/.test(readFileSync(f, 'utf8')));

describe('orchestrator determinism', () => {
  it('finds the registered orchestrators and nothing non-deterministic in them or what they import', () => {
    const entries = orchestratorEntries(registrars);
    expect(entries).toContain('functions/rollouts/sandbox-rollout-orchestrator.ts');
    for (const entry of entries) {
      const { files, findings } = scanOrchestrator(entry);
      // The plan and the ledger run inside the orchestrator on every replay.
      if (entry.endsWith('sandbox-rollout-orchestrator.ts')) {
        expect(files).toEqual(expect.arrayContaining(['core/rollouts/plan-rollout.ts', 'core/rollouts/rollout-ledger.ts', 'core/errors.ts']));
        // Activities run outside the replay: reached by name only, never imported for values.
        expect(files).not.toContain('functions/rollouts/rollout-activities.ts');
      }
      expect(findings, entry).toEqual([]);
    }
  });

  describe('planted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kars-determinism-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['Date.now()', 'const t = Date.now();', 'calls Date.now()'],
      ['new Date()', 'const t = new Date();', 'new Date() (the clock)'],
      ['Date()', 'const t = Date();', 'calls Date()'],
      ['Math.random()', 'const r = Math.random();', 'calls Math.random()'],
      ['crypto.randomUUID()', 'const id = crypto.randomUUID();', 'calls crypto.randomUUID()'],
      ['randomUUID from node:crypto', "import { randomUUID } from 'node:crypto';\nconst id = randomUUID();", 'imports node:crypto'],
      ['fetch()', "void fetch('https://example.org');", 'calls fetch()'],
      ['node:http', "import { request } from 'node:http';\nvoid request;", 'imports node:http'],
      ['an Azure SDK', "import { CosmosClient } from '@azure/cosmos';\nvoid CosmosClient;", 'imports @azure/cosmos'],
      ['setTimeout()', 'setTimeout(() => undefined, 1);', 'calls setTimeout()'],
      ['process.env', 'const v = process.env.KARS_X;', 'reads process.env'],
      ['await', 'async function f() { await Promise.resolve(); }\nvoid f;', 'await (orchestrators yield tasks)'],
    ])('%s is found', (_label, code, what) => {
      expect(scanSource('planted.ts', code).findings.map((f) => f.what)).toContain(what);
    });

    it('follows value imports (two deep) and skips type-only ones; a deterministic timer is allowed', () => {
      writeFileSync(join(dir, 'orchestrator.ts'), [
        "import type { Clock } from './typed';",
        "import { helper } from './helper';",
        'export function* orchestrator(ctx: { df: { currentUtcDateTime: Date } }) {',
        '  yield new Date(ctx.df.currentUtcDateTime.getTime() + 1000);',
        '  return helper();',
        '}',
      ].join('\n'));
      writeFileSync(join(dir, 'typed.ts'), 'export interface Clock { now(): number }\nexport const leak = Date.now();\n');
      writeFileSync(join(dir, 'helper.ts'), "import { deep } from './deep';\nexport const helper = () => deep();\n");
      writeFileSync(join(dir, 'deep.ts'), 'export const deep = () => Math.random();\n');
      const { files, findings } = scanOrchestrator(join(dir, 'orchestrator.ts'));
      expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['deep.ts', 'helper.ts', 'orchestrator.ts']);
      expect(findings.map((f) => [f.file.slice(dir.length + 1), f.line, f.what])).toEqual([['deep.ts', 1, 'calls Math.random()']]);
    });

    it('a planted call in the real rollout orchestrator is found', () => {
      const entry = 'functions/rollouts/sandbox-rollout-orchestrator.ts';
      const planted = readFileSync(entry, 'utf8').replace('const plan = planned.value;', 'const plan = planned.value;\n  const startedAt = Date.now();\n  void startedAt;');
      expect(planted).toContain('Date.now()');
      const { findings } = scanOrchestrator(entry, (f) => (f === entry ? planted : readFileSync(f, 'utf8')));
      expect(findings.map((f) => f.what)).toEqual(['calls Date.now()']);
    });
  });
});
