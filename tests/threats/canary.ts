// Canary secrets for the T1 attack suite: unique strings planted where secrets live (hook registrations, signing
// headers, Authorization-like headers, query strings, function keys). A scan of every log line, response, receipt and
// queued message must find none of them; scans also look for base64 and percent-encoded forms.
import { randomBytes } from 'node:crypto';

export interface CanaryHit {
  canary: string;
  label: string;
  /** Where the text came from (e.g. `log`, `response 401`). */
  where: string;
  form: 'raw' | 'base64' | 'percent';
}

export class Canaries {
  readonly #planted = new Map<string, string>();

  /** A fresh canary; `shape` wraps it so it is also a valid secret of that kind. */
  plant(label: string, shape: (raw: string) => string = (raw) => raw): string {
    const raw = `kcanary${randomBytes(6).toString('hex')}`;
    const value = shape(raw);
    this.#planted.set(raw, label);
    return value;
  }

  /** Registers a value chosen elsewhere (a host key) as a canary. */
  adopt(label: string, value: string): string {
    if (value.length < 12) throw new RangeError('canary values need at least 12 characters');
    this.#planted.set(value, label);
    return value;
  }

  /** Every occurrence of any planted canary in `texts` (pairs of where → text). */
  scan(texts: Iterable<readonly [where: string, text: string]>): CanaryHit[] {
    const hits: CanaryHit[] = [];
    for (const [where, text] of texts) {
      for (const [raw, label] of this.#planted) {
        if (text.includes(raw)) hits.push({ canary: raw, label, where, form: 'raw' });
        // Base64 of the canary at any of the three alignments, minus the edge characters that depend on neighbours.
        for (const b64 of base64Forms(raw)) if (text.includes(b64)) hits.push({ canary: raw, label, where, form: 'base64' });
        if (text.includes(encodeURIComponent(raw).replace(/[a-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16)}`))) {
          hits.push({ canary: raw, label, where, form: 'percent' });
        }
      }
    }
    return hits;
  }

  get size(): number {
    return this.#planted.size;
  }
}

function base64Forms(raw: string): string[] {
  const forms: string[] = [];
  for (let pad = 0; pad < 3; pad += 1) {
    const encoded = Buffer.from('\0'.repeat(pad) + raw).toString('base64');
    // Drop the characters influenced by the padding prefix and by whatever follows.
    const start = Math.ceil((pad * 4) / 3) + 1;
    forms.push(encoded.slice(start, encoded.length - 4));
  }
  return forms.filter((f) => f.length >= 8);
}

/** Shapes that make a canary a usable secret for each channel. */
export const CANARY_SECRET_SHAPES = {
  /** 32 bytes whose base64 is the canary-bearing text: `whsec_` + base64(24 + canary bytes) is not guaranteed canonical, so encode. */
  standard: (raw: string): string => `whsec_${Buffer.from(raw.padEnd(32, 'x').slice(0, 48)).toString('base64')}`,
  github: (raw: string): string => `gh-${raw}`,
  slack: (raw: string): string => `sl-${raw}`,
  teams: (raw: string): string => Buffer.from(raw.padEnd(32, 'y')).toString('base64'),
} as const;
