// The seed's re-evaluation gate as a test: rows, residual risks, mapped test files and every HTTP route must be in
// docs/threat-model.md.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes';

const doc = readFileSync('docs/threat-model.md', 'utf8');

interface Row {
  id: string;
  code: string;
  tests: string;
  status: string;
}

function tableRows(): Row[] {
  return doc
    .split('\n')
    .filter((l) => /^\| (T[1-4]-[STRIDE]|RR[1-3]) \|/.test(l))
    .map((l) => {
      const cells = l.split('|').slice(1, -1).map((c) => c.trim());
      return { id: cells[0]!, code: cells[3]!, tests: cells[4]!, status: cells[5]! };
    });
}

const backticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('docs/threat-model.md', () => {
  const rows = tableRows();

  it('lists the 24 STRIDE rows and the 3 residual risks exactly once', () => {
    const expected = ['T1', 'T2', 'T3', 'T4'].flatMap((t) => [...'STRIDE'].map((c) => `${t}-${c}`)).concat(['RR1', 'RR2', 'RR3']);
    expect(rows.map((r) => r.id).sort()).toEqual(expected.sort());
  });

  it('gives every row an honest status from the fixed vocabulary', () => {
    for (const r of rows) expect(['mitigated', 'partial', 'not yet'], r.id).toContain(r.status);
  });

  it('backs every mitigated or partial row with attack tests and code', () => {
    for (const r of rows.filter((r) => r.status !== 'not yet')) {
      expect(backticked(r.tests).length, `${r.id} tests`).toBeGreaterThan(0);
      expect(backticked(r.code).length, `${r.id} code`).toBeGreaterThan(0);
    }
  });

  it('points only at files that exist', () => {
    for (const r of rows) {
      for (const p of [...backticked(r.tests), ...backticked(r.code)]) expect(existsSync(p), `${r.id}: ${p}`).toBe(true);
    }
  });

  it('maps attack tests of a row to tests/threats files named after that row', () => {
    for (const r of rows) {
      for (const p of backticked(r.tests).filter((p) => p.startsWith('tests/threats/'))) {
        expect(p.startsWith(`tests/threats/${r.id}-`), `${r.id}: ${p}`).toBe(true);
      }
    }
  });

  it('names every HTTP route of the route table (new surface needs a threat-model entry)', () => {
    for (const r of routes) {
      for (const m of r.methods) expect(doc, `${m} /api/${r.route}`).toContain('`' + `${m} /api/${r.route}` + '`');
    }
  });
});
