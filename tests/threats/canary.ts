// Canary secrets for the T1 attack suite: unique strings planted where secrets live (hook registrations, signing
// headers, Authorization-like headers, query strings, function keys). A scan of every log line, response, receipt and
// queued message must find none of them, raw or encoded (base64/base64url, hex, percent, JSON escapes:
// tests/support/canary-forms.ts). Every planted or adopted value is also registered with the suite-wide guard
// (tests/setup/canary-guard.ts), which fails any test file that logs one.
import { randomBytes } from 'node:crypto';
import { findCanaries } from '../support/canary-forms';
import { registerCanary } from '../setup/canary-guard';

export interface CanaryHit {
  canary: string;
  label: string;
  /** Where the text came from (e.g. `log`, `response 401`). */
  where: string;
  /** `raw`, or how it was encoded: `base64` (either alphabet), `hex`, `percent`, `json-escape`, or a chain of them. */
  form: string;
}

export class Canaries {
  readonly #planted = new Map<string, string>();

  /** A fresh canary; `shape` wraps it so it is also a valid secret of that kind. */
  plant(label: string, shape: (raw: string) => string = (raw) => raw): string {
    const raw = newCanary();
    const value = shape(raw);
    this.#planted.set(raw, label);
    return value;
  }

  /** Registers a value chosen elsewhere (a host key) as a canary. */
  adopt(label: string, value: string): string {
    if (value.length < 12) throw new RangeError('canary values need at least 12 characters');
    this.#planted.set(value, label);
    registerCanary(value);
    return value;
  }

  /** Every planted canary in `texts` (pairs of where → text), once per text, in the plainest form it appears in. */
  scan(texts: Iterable<readonly [where: string, text: string]>): CanaryHit[] {
    const hits: CanaryHit[] = [];
    for (const [where, text] of texts) {
      for (const f of findCanaries(text, this.#planted.keys())) {
        const label = this.#planted.get(f.value);
        if (label !== undefined) hits.push({ canary: f.value, label, where, form: f.form });
      }
    }
    return hits;
  }

  get size(): number {
    return this.#planted.size;
  }
}

/** A fresh canary value: `kcanary` + 12 hex, the pattern the suite-wide guard looks for. */
export function newCanary(): string {
  return `kcanary${randomBytes(6).toString('hex')}`;
}

/** Shapes that make a canary a usable secret for each channel. */
export const CANARY_SECRET_SHAPES = {
  /** 32 bytes whose base64 is the canary-bearing text: `whsec_` + base64(24 + canary bytes) is not guaranteed canonical, so encode. */
  standard: (raw: string): string => `whsec_${Buffer.from(raw.padEnd(32, 'x').slice(0, 48)).toString('base64')}`,
  github: (raw: string): string => `gh-${raw}`,
  slack: (raw: string): string => `sl-${raw}`,
  teams: (raw: string): string => Buffer.from(raw.padEnd(32, 'y')).toString('base64'),
} as const;
