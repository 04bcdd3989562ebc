// The threat model's re-evaluation cadence (docs/threat-model.md): every installed version of a security-relevant
// dependency has a review row naming that exact version (else CI fails), and the "Last reviewed" date warns in
// `npm test` once more than 92 days old. Checked on the real files, and on planted ones to show each check bites.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dependencyReviews, lastReviewedMs, reviewAgeWarning, SECURITY_DEPENDENCIES, unreviewedDependencies,
} from '../../scripts/review-cadence.cjs';

const doc = readFileSync('docs/threat-model.md', 'utf8');
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string }> };
const DAY = 86_400_000;
const dir = mkdtempSync(path.join(tmpdir(), 'kars-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dependency reviews', () => {
  it('every security-relevant dependency is installed and reviewed at its installed version', () => {
    for (const pkg of SECURITY_DEPENDENCIES) expect(lock.packages[`node_modules/${pkg}`]?.version, pkg).toBeTruthy();
    expect(unreviewedDependencies(doc, lock)).toEqual([]);
  });

  it('a lock file with a changed version fails the gate, naming the package and version', () => {
    const planted = structuredClone(lock);
    planted.packages['node_modules/zod']!.version = '4.99.0';
    const file = path.join(dir, 'package-lock.json');
    writeFileSync(file, JSON.stringify(planted));
    expect(unreviewedDependencies(doc, JSON.parse(readFileSync(file, 'utf8')))).toEqual([{ pkg: 'zod', installed: '4.99.0' }]);
  });

  it('a review row without a real date or a note does not count; a removed package is reported', () => {
    const zod = dependencyReviews(doc).find((r) => r.pkg === 'zod')!;
    const noNote = doc.replace(new RegExp(`(\\| \`zod\` \\| ${zod.version.replace(/\./g, '\\.')} \\| ${zod.date} \\| )[^|]+\\|`), '$1 |');
    expect(unreviewedDependencies(noNote, lock)).toEqual([{ pkg: 'zod', installed: zod.version }]);
    const badDate = doc.replace(`| \`zod\` | ${zod.version} | ${zod.date} |`, `| \`zod\` | ${zod.version} | 2026-13-45 |`);
    expect(unreviewedDependencies(badDate, lock)).toEqual([{ pkg: 'zod', installed: zod.version }]);
    const gone = structuredClone(lock);
    delete gone.packages['node_modules/ws'];
    expect(unreviewedDependencies(doc, gone)).toEqual([{ pkg: 'ws', installed: null }]);
  });
});

describe('last reviewed date', () => {
  it('is present, a real date, not in the future', () => {
    const ms = lastReviewedMs(doc);
    expect(ms).toBeDefined();
    expect(ms!).toBeLessThanOrEqual(Date.now());
  });

  it('warns (no failure) once more than 92 days old: 92 days is quiet, 93 days warns', () => {
    const planted = doc.replace(/^Last reviewed: .*$/m, 'Last reviewed: 2026-01-01');
    const reviewed = Date.parse('2026-01-01T00:00:00Z');
    expect(reviewAgeWarning(planted, reviewed + 92 * DAY + 3600_000)).toBeUndefined();
    expect(reviewAgeWarning(planted, reviewed + 93 * DAY + 3600_000)).toMatch(/last reviewed 93 days ago \(more than 92\)/);
    expect(reviewAgeWarning(doc.replace(/^Last reviewed: .*$/m, ''), Date.now())).toMatch(/no "Last reviewed/);
  });

  it('npm test prints that warning beside its result line', () => {
    const script = readFileSync('scripts/test.mjs', 'utf8');
    expect(script).toMatch(/import cadence from '\.\/review-cadence\.cjs'/);
    expect(script).toMatch(/cadence\.reviewAgeWarning\(readFileSync\('docs\/threat-model\.md', 'utf8'\), Date\.now\(\)\)/);
    expect(script).toMatch(/if \(staleReview\) console\.warn\(staleReview\);/);
  });
});
