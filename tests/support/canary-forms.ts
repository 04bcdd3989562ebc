// T1-I: the forms a leaked secret takes in a log line. A leak is rarely the raw value: a header dumped as base64
// (Basic auth, a serialised buffer), base64url (JWT segments), hex (a buffer's toString('hex')), percent-encoded (a
// logged URL) or JSON-escaped (a string logged inside a JSON string). `decodedViews` undoes these, nested up to two
// deep (percent-encoded base64, base64 of a JSON document), so a scan for the raw value finds every form.

export interface DecodedView {
  /** How the view was obtained from the original text: `raw`, or a chain such as `percent+base64`. */
  readonly form: string;
  readonly text: string;
}

/** The kcanary pattern every planted canary carries (tests/threats/canary.ts); case-insensitive: an upper-cased dump leaks too. */
export const CANARY_PATTERN = /kcanary[0-9a-f]{12}/gi;

// A canary is ≥ 19 bytes: shorter runs cannot hold one, whatever their encoding.
const BASE64_RUN = /[A-Za-z0-9+/_-]{20,}/g;
const HEX_RUN = /[0-9a-fA-F]{38,}/g;
const PERCENT = /%[0-9a-fA-F]{2}/;
// One or more backslashes: a JSON string logged inside another JSON string escapes the backslash again.
const ESCAPE = /\\+u[0-9a-fA-F]{4}|\\+x[0-9a-fA-F]{2}/;

type Decoder = (text: string) => string | undefined;

const DECODERS: ReadonlyArray<readonly [string, Decoder]> = [
  ['percent', (t) => (PERCENT.test(t) ? t.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : undefined)],
  [
    'json-escape',
    (t) => (ESCAPE.test(t) ? t.replace(/\\+u([0-9a-fA-F]{4})|\\+x([0-9a-fA-F]{2})/g, (_, u?: string, x?: string) => String.fromCharCode(parseInt(u ?? x!, 16))) : undefined),
  ],
  [
    'base64',
    (t) => {
      const parts: string[] = [];
      for (const [run] of t.matchAll(BASE64_RUN)) {
        const std = run.replace(/-/g, '+').replace(/_/g, '/');
        // The run may start mid-encoding (glued to other word characters): try each of the four alignments.
        for (let off = 0; off < 4; off += 1) {
          const body = std.slice(off, off + Math.floor((std.length - off) / 4) * 4);
          parts.push(Buffer.from(body, 'base64').toString('latin1'));
        }
      }
      return parts.length > 0 ? parts.join('\n') : undefined;
    },
  ],
  [
    'hex',
    (t) => {
      const parts: string[] = [];
      for (const [run] of t.matchAll(HEX_RUN)) {
        for (let off = 0; off < 2; off += 1) parts.push(Buffer.from(run.slice(off, off + Math.floor((run.length - off) / 2) * 2), 'hex').toString('latin1'));
      }
      return parts.length > 0 ? parts.join('\n') : undefined;
    },
  ],
];

/** The text itself and every decoding of it, two levels deep. */
export function decodedViews(text: string, depth = 2): DecodedView[] {
  const views: DecodedView[] = [{ form: 'raw', text }];
  let frontier: DecodedView[] = views.slice();
  for (let level = 0; level < depth; level += 1) {
    const next: DecodedView[] = [];
    for (const view of frontier) {
      for (const [name, decode] of DECODERS) {
        const decoded = decode(view.text);
        if (decoded !== undefined && decoded !== view.text) next.push({ form: view.form === 'raw' ? name : `${view.form}+${name}`, text: decoded });
      }
    }
    views.push(...next);
    frontier = next;
  }
  return views;
}

export interface CanaryFinding {
  /** The canary found (decoded): the caller must not print it. */
  readonly value: string;
  readonly form: string;
}

/** Every canary in `text`, in any form: the kcanary pattern, plus the exact `known` values (adopted secrets such as host keys). */
export function findCanaries(text: string, known: Iterable<string> = []): CanaryFinding[] {
  const found: CanaryFinding[] = [];
  const seen = new Set<string>();
  const knownValues = [...known];
  for (const view of decodedViews(text)) {
    const add = (value: string): void => {
      const key = value.toLowerCase(); // once per canary, in its plainest form (views go raw first)
      if (!seen.has(key)) {
        seen.add(key);
        found.push({ value, form: view.form });
      }
    };
    for (const [m] of view.text.matchAll(CANARY_PATTERN)) add(m.toLowerCase());
    for (const value of knownValues) if (view.text.includes(value)) add(value);
  }
  return found;
}
