// Dependencies point inward: core imports nothing of ours but core, no SDK, no I/O modules, no ambient time or env.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const importsOf = (src: string): string[] => [...src.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

const FORBIDDEN_IN_CORE: Array<[RegExp, string]> = [
  [/^@azure\//, 'Azure SDK'],
  [/^durable-functions/, 'Functions SDK'],
  [/^(node:)?(http|https|net|fs|fs\/promises|child_process|dgram|tls)$/, 'I/O module'],
  [/(^|\/)(adapters|functions|infra|sandbox-node|cli)\//, 'outer layer'],
];

describe('layering', () => {
  const core = tsFiles('core');

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
});
