// T3-I: redacts credentials echoed in a response body, streamed bodies included. An upstream (or anything that
// tampers with it) can echo the router's bearer token, a key or another JWT in an error message or in model output;
// the agent must never see one. Works on bytes as they arrive: it holds back only a tail that could still be the
// start of a credential (a run of token characters, a `Bearer ` / `api-key:` prefix, a prefix of a known secret), so
// a token split across chunk boundaries is caught while ordinary SSE events (which end in a newline) pass at once.

export const REDACTION = '[REDACTED]';

/** JWS compact form (every Entra access token): base64url header starting `{"` = `eyJ`, payload, signature. */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
/** An opaque bearer credential after the scheme name (RFC 6750 §2.1 token68 characters). */
const BEARER = /(?<=\bbearer\s{1,4})[A-Za-z0-9\-._~+/]{16,}=*/gi;
/** A key after a key-ish name, as in a header or JSON echo: `api-key: …`, `"x-api-key":"…"`, `apiKey=…`. */
const KEYED = /(?<=\b(?:x-api-key|api[-_]?key|ocp-apim-subscription-key|access[-_]?token)["']?\s{0,4}[:=]\s{0,4}["']?)[A-Za-z0-9\-._~+/]{16,}=*/gi;
/** A tail that may be followed by a credential in the next chunk. */
const PENDING_PREFIX = /(?:\bbearer\s{0,4}|\b(?:x-api-key|api[-_]?key|ocp-apim-subscription-key|access[-_]?token)["']?\s{0,4}[:=]?\s{0,4}["']?)$/i;
/** A literal each pattern above contains (JWT `eyJ`, the scheme name, the key names): absent → no pattern matches. */
const PATTERN_MARKERS = /eyJ|bearer|api[-_]?key|subscription-key|access[-_]?token/i;
const TOKEN_CHAR = /[A-Za-z0-9\-._~+/=]/;
/** Characters kept before a held run so the look-behind patterns still see `Bearer ` next time. */
const CONTEXT = 40;

export interface StreamRedactorOptions {
  /** Exact values to redact wherever they appear (the router's current tokens); at least 12 characters each. */
  readonly secrets?: readonly string[];
  /** Longest tail held back while it may still grow into a credential (default 32 KiB); past it, bytes flow. */
  readonly maxHeldBytes?: number;
}

export interface StreamRedactor {
  /** Bytes that are safe to send now (possibly empty). */
  push(chunk: Uint8Array): Uint8Array;
  /** Everything still held, redacted; call once at the end of the body. */
  end(): Uint8Array;
  /** How many credentials were redacted so far. */
  readonly redactions: number;
}

/** @throws {RangeError} for a secret shorter than 12 characters (it would shred ordinary text) */
export function createStreamRedactor(options: StreamRedactorOptions = {}): StreamRedactor {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  for (const s of secrets) if (s.length < 12) throw new RangeError('"secrets" expected values of at least 12 characters');
  const maxHeld = options.maxHeldBytes ?? 32 * 1024;
  let carry = '';
  let redactions = 0;

  const step = (buf: string, final: boolean): string => {
    let cut = final ? buf.length : safeCut(buf, secrets);
    if (!final && cut < buf.length - maxHeld) cut = buf.length - maxHeld;
    const matches = findMatches(buf, secrets);
    let out = '';
    let at = 0;
    for (const [start, end] of matches) {
      if (start >= cut) break;
      // A complete match that straddles the cut is redacted now (it cannot grow: the regex found its end in buf).
      if (end > cut) cut = end;
      out += buf.slice(at, start) + REDACTION;
      at = end;
      redactions++;
    }
    out += buf.slice(at, cut);
    carry = buf.slice(cut);
    return out;
  };

  return {
    push(chunk) {
      return fromLatin1(step(carry + toLatin1(chunk), false));
    },
    end() {
      const out = step(carry, true);
      carry = '';
      return fromLatin1(out);
    },
    get redactions() {
      return redactions;
    },
  };
}

/** Non-overlapping [start, end) ranges of every credential in `s`, in order (the earliest, longest wins). */
function findMatches(s: string, secrets: readonly string[]): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  // One pass for what every pattern needs literally; most bodies have none of it and skip the three scans.
  if (PATTERN_MARKERS.test(s)) for (const re of [JWT, BEARER, KEYED]) {
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) found.push([m.index, m.index + m[0].length]);
  }
  for (const secret of secrets) {
    for (let i = s.indexOf(secret); i >= 0; i = s.indexOf(secret, i + secret.length)) found.push([i, i + secret.length]);
  }
  found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Array<[number, number]> = [];
  for (const r of found) {
    const last = merged[merged.length - 1];
    if (last && r[0] < last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Where the bytes that may still be part of a credential begin. */
function safeCut(s: string, secrets: readonly string[]): number {
  let cut = s.length;
  let run = s.length;
  while (run > 0 && TOKEN_CHAR.test(s[run - 1]!)) run--;
  if (run < s.length) cut = Math.max(0, run - CONTEXT);
  const prefix = PENDING_PREFIX.exec(s.slice(Math.max(0, s.length - CONTEXT * 2)));
  if (prefix && prefix[0].length > 0) cut = Math.min(cut, Math.max(0, s.length - prefix[0].length - CONTEXT));
  for (const secret of secrets) {
    // A tail that is a proper prefix of a known secret.
    for (let i = Math.max(0, s.length - secret.length + 1); i < s.length; i++) {
      if (s.charCodeAt(i) === secret.charCodeAt(0) && secret.startsWith(s.slice(i))) {
        cut = Math.min(cut, i);
        break;
      }
    }
  }
  return cut;
}

// Latin-1 maps each byte to one UTF-16 unit and back, so multi-byte UTF-8 text survives untouched and offsets are
// byte offsets. Credentials are ASCII, so matching on this view is exact.
function toLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function fromLatin1(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}
