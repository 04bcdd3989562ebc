// Dependencies point inward: core imports nothing of ours but core, no SDK, no I/O modules, no ambient time or env.
// Production code (everything the Azure entry and the daemons load) never imports the local stack under infra/, and
// no file takes part in an import cycle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, findCycles, importsOf, projectGraph, reachableFrom, tsFiles } from './import-graph';

const FORBIDDEN_IN_CORE: Array<[RegExp, string]> = [
  [/^@azure\//, 'Azure SDK'],
  [/^durable-functions/, 'Functions SDK'],
  [/^(node:)?(http|https|net|fs|fs\/promises|child_process|dgram|tls)$/, 'I/O module'],
  [/(^|\/)(adapters|functions|infra|sandbox-node|cli)\//, 'outer layer'],
];

/** Production layers: none of them may import the local stack (infra/), which only `npm start` and tests run. */
const PRODUCTION_ROOTS = ['core', 'adapters', 'functions', 'sandbox-node', 'cli'] as const;

/** The project files under `infra/` that `file` imports directly. */
function infraImports(graph: ReadonlyMap<string, readonly string[]>, file: string): string[] {
  return (graph.get(file) ?? []).filter((target) => target.startsWith(`infra/`));
}

/** Files of the production roots that import infra/, as "file -> target". */
function productionInfraImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  return [...graph.keys()]
    .filter((file) => PRODUCTION_ROOTS.some((root) => file.startsWith(`${root}/`)))
    .flatMap((file) => infraImports(graph, file).map((target) => `${file} -> ${target}`));
}

describe('layering', () => {
  const core = tsFiles('core');
  const graph = projectGraph();

  it('finds the core sources', () => {
    expect(core.length).toBeGreaterThan(10);
  });

  it('core imports no SDK, no I/O module and no outer layer', () => {
    const violations: string[] = [];
    for (const file of core) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        for (const [re, why] of FORBIDDEN_IN_CORE) if (re.test(spec)) violations.push(`${file}: ${spec} (${why})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('core reads no environment and no wall clock (Clock port instead)', () => {
    // The Clock port's own system implementation is the one seam allowed to read the wall clock.
    const violations = core.filter((f) => f !== join('core', 'ports', 'clock.port.ts') && /process\.env|Date\.now\(\)/.test(readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '')));
    expect(violations).toEqual([]);
  });

  it('the check has teeth: it flags a forbidden import', () => {
    const sample = "import { CosmosClient } from '@azure/cosmos';\nimport { x } from '../../adapters/cosmos/cosmos-client';";
    const hits = importsOf(sample).filter((s) => FORBIDDEN_IN_CORE.some(([re]) => re.test(s)));
    expect(hits).toHaveLength(2);
  });

  it('reads the whole project graph, with its relative imports resolved', () => {
    expect(graph.size).toBeGreaterThan(300);
    expect(graph.get('functions/index.ts')).toContain('functions/routes.ts');
    expect(graph.get('infra/local/host/main.ts')).toContain('functions/services.ts');
  });

  it('functions/, adapters/, core/, sandbox-node/ and cli/ never import infra/ (the local stack)', () => {
    expect(productionInfraImports(graph)).toEqual([]);
  });

  it('the Azure entry (functions/index.ts) reaches nothing under infra/, not even through a type import', () => {
    const reached = [...reachableFrom(graph, 'functions/index.ts')];
    expect(reached.length).toBeGreaterThan(50);
    expect(reached.filter((f) => f.startsWith('infra/'))).toEqual([]);
  });

  // Cycles that exist and have an owner; a new cycle fails, and breaking a listed one fails until it leaves this list.
  it('no import cycles anywhere in the project', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  describe('the checks have teeth', () => {
    // A planted tree of in-memory sources: the same checks run over it and must flag what was planted.
    const planted: Record<string, string> = {
      'functions/services.ts': "import { startLocalDurableRunner } from '../infra/local/durable/local-durable-runner';",
      'functions/index.ts': "import { routes } from './routes';",
      'functions/routes.ts': "import type { Seed } from '../adapters/edge/seed';",
      'adapters/edge/seed.ts': "export type { Seed } from '../../infra/local/host/demo-hooks';",
      'infra/local/durable/local-durable-runner.ts': "export const startLocalDurableRunner = 1;",
      'infra/local/host/demo-hooks.ts': "import { x } from './b';",
      'infra/local/host/b.ts': "import { y } from './c';",
      'infra/local/host/c.ts': "import { z } from './demo-hooks';",
      'core/a.ts': "import { b } from './b';\nconst later = () => import('./a');",
      'core/b.ts': "export const b = 1;",
    };
    const exists = (p: string): boolean => p in planted;
    const plantedGraph = buildImportGraph(Object.keys(planted), (f) => planted[f]!, exists);

    it('flags a production file that imports infra/', () => {
      expect(productionInfraImports(plantedGraph)).toEqual([
        'functions/services.ts -> infra/local/durable/local-durable-runner.ts',
        'adapters/edge/seed.ts -> infra/local/host/demo-hooks.ts',
      ]);
    });

    it('flags infra/ reached from the entry through an adapter and a type-only import', () => {
      const reached = [...reachableFrom(plantedGraph, 'functions/index.ts')].filter((f) => f.startsWith('infra/'));
      expect(reached.sort()).toEqual(['infra/local/host/b.ts', 'infra/local/host/c.ts', 'infra/local/host/demo-hooks.ts']);
    });

    it('flags a three-file cycle and a file that imports itself, and nothing else', () => {
      expect(findCycles(plantedGraph).sort()).toEqual([
        ['core/a.ts'],
        ['infra/local/host/b.ts', 'infra/local/host/c.ts', 'infra/local/host/demo-hooks.ts'],
      ]);
    });
  });
});
