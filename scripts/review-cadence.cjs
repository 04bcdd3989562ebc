// The threat model's re-evaluation cadence (seed: re-evaluate on new routes, on security-relevant dependency changes,
// and quarterly). Pure functions over file contents, shared by `npm test` (scripts/test.mjs, the age warning) and
// tests/docs/dependency-reviews.test.ts (the dependency gate, a CI failure). CommonJS, so both ESM (test.mjs) and the
// CommonJS-compiled tests import it.
'use strict';

/** Dependencies whose every installed version needs a review entry in docs/threat-model.md. */
const SECURITY_DEPENDENCIES = ['@microsoft/agent-governance-sdk', 'tweetnacl', '@azure/identity', 'zod', 'ws'];

/** A review older than this many days makes `npm test` print a warning. */
const REVIEW_MAX_AGE_DAYS = 92;

const DAY_MS = 86_400_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** `Last reviewed: YYYY-MM-DD` → epoch ms of that UTC day, or undefined when absent or not a real date. */
function lastReviewedMs(markdown) {
  const m = /^Last reviewed: (\d{4}-\d{2}-\d{2})\s*$/m.exec(markdown);
  return m ? dayMs(m[1]) : undefined;
}

function dayMs(date) {
  if (!DATE_RE.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date ? undefined : ms;
}

/** The warning `npm test` prints, or undefined while the review is fresh (≤ REVIEW_MAX_AGE_DAYS days). */
function reviewAgeWarning(markdown, nowMs, maxAgeDays = REVIEW_MAX_AGE_DAYS) {
  const reviewed = lastReviewedMs(markdown);
  if (reviewed === undefined) return 'WARNING: docs/threat-model.md has no "Last reviewed: YYYY-MM-DD" line; re-evaluate the threat model.';
  const days = Math.floor((nowMs - reviewed) / DAY_MS);
  return days > maxAgeDays
    ? `WARNING: docs/threat-model.md was last reviewed ${days} days ago (more than ${maxAgeDays}); re-evaluate the threat model and update its "Last reviewed" date.`
    : undefined;
}

/** Rows of the "Dependency reviews" table: { pkg, version, date, note }. */
function dependencyReviews(markdown) {
  const start = markdown.search(/^## Dependency reviews\s*$/m);
  if (start < 0) return [];
  const section = markdown.slice(start).split('\n').slice(1);
  const end = section.findIndex((l) => l.startsWith('## '));
  const rows = [];
  for (const line of end < 0 ? section : section.slice(0, end)) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, ''));
    if (cells.length < 4 || cells[0] === 'Package') continue;
    const [pkg, version, date, note] = cells;
    rows.push({ pkg, version, date, note });
  }
  return rows;
}

/** The installed version of each name in a package-lock.json (v2/v3 `packages` map). */
function installedVersions(lock, names = SECURITY_DEPENDENCIES) {
  const out = {};
  for (const name of names) out[name] = lock?.packages?.[`node_modules/${name}`]?.version;
  return out;
}

/**
 * Security-relevant dependencies whose installed version has no review row naming exactly that version, with a real
 * date and a note. Empty when every one is reviewed.
 */
function unreviewedDependencies(markdown, lock, names = SECURITY_DEPENDENCIES) {
  const reviews = dependencyReviews(markdown).filter((r) => dayMs(r.date) !== undefined && r.note.length > 0);
  const installed = installedVersions(lock, names);
  return names
    .filter((pkg) => !reviews.some((r) => r.pkg === pkg && r.version === installed[pkg]))
    .map((pkg) => ({ pkg, installed: installed[pkg] ?? null }));
}

module.exports = { SECURITY_DEPENDENCIES, REVIEW_MAX_AGE_DAYS, lastReviewedMs, reviewAgeWarning, dependencyReviews, installedVersions, unreviewedDependencies };
