// Every property test runs through tests/support/property.ts (fixed seed in CI, random seeds in `npm run fuzz`, seed and
// path printed on failure): no test file may call fast-check's runners itself or set its own global configuration.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const RUNNERS = ['assert', 'check', 'sample', 'statistics', 'configureGlobal'];
const HELPER = join('tests', 'support', 'property.ts');
const SELF = join('tests', 'architecture', 'property-seeds.test.ts'); // holds the planted bypasses below

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The ways `source` runs a property outside the helper: `X.assert(` on any name fast-check is imported as, or a runner imported by name. */
export function propertyBypasses(source: string): string[] {
  const found: string[] = [];
  const names = new Set<string>();
  for (const m of source.matchAll(/import\s+(?:\*\s+as\s+)?([A-Za-z_$][\w$]*)\s*(?:,\s*\{([^}]*)\})?\s*from\s*['"]fast-check['"]/g)) names.add(m[1]!);
  for (const m of source.matchAll(/import\s*(?:[A-Za-z_$][\w$]*\s*,\s*)?\{([^}]*)\}\s*from\s*['"]fast-check['"]/g)) {
    for (const spec of m[1]!.split(',')) {
      const imported = spec.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
      if (RUNNERS.includes(imported)) found.push(`imports ${imported} from fast-check`);
    }
  }
  if (/require\(\s*['"]fast-check['"]\s*\)|import\(\s*['"]fast-check['"]\s*\)/.test(source)) found.push('loads fast-check dynamically');
  for (const name of names) {
    const call = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\s*\\.\\s*(${RUNNERS.join('|')})\\s*\\(`, 'g');
    for (const m of source.matchAll(call)) found.push(`${name}.${m[1]}(`);
  }
  return found;
}

describe('property tests keep the seed policy', () => {
  const files = tsFiles('tests').filter((f) => f !== HELPER && f !== SELF);

  it('finds the property tests, and each runs through assertProperty', () => {
    const users = files.filter((f) => /from\s*['"]fast-check['"]/.test(readFileSync(f, 'utf8')));
    expect(users.length).toBeGreaterThanOrEqual(13);
    for (const f of users) expect({ f, uses: /\bassertProperty\(/.test(readFileSync(f, 'utf8')) }).toEqual({ f, uses: true });
  });

  it('no test file calls a fast-check runner directly', () => {
    const bad = files.flatMap((f) => propertyBypasses(readFileSync(f, 'utf8')).map((b) => `${f}: ${b}`));
    expect(bad).toEqual([]);
  });

  it('catches each planted bypass', () => {
    expect(propertyBypasses("import fc from 'fast-check';\nfc.assert(fc.property(fc.nat(), () => true));")).toEqual(['fc.assert(']);
    expect(propertyBypasses("import * as q from 'fast-check';\nawait q . check(p, { seed: 1 });")).toEqual(['q.check(']);
    expect(propertyBypasses("import fc, { assert as a } from 'fast-check';\nfc.configureGlobal({ seed: 1 });")).toEqual([
      'imports assert from fast-check',
      'fc.configureGlobal(',
    ]);
    expect(propertyBypasses("const fc = require('fast-check');")).toEqual(['loads fast-check dynamically']);
    expect(propertyBypasses("import fc from 'fast-check';\nassertProperty(fc.property(fc.nat(), () => true));")).toEqual([]);
  });
});
