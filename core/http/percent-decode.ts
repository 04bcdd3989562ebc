// Lenient percent-decoding for inspection only (T1-I): never throws, so a malformed escape cannot make a credential
// check skip a parameter, and repeated decoding undoes double encoding (`%2574oken` → `%74oken` → `token`).

const PERCENT_RE = /%[0-9A-Fa-f]{2}/;
const lenientDecoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/**
 * Decodes `%XX` escapes (and `+` as space, per application/x-www-form-urlencoded) once. Invalid escapes stay literal;
 * invalid UTF-8 becomes U+FFFD.
 */
export function percentDecodeOnce(text: string): string {
  if (!PERCENT_RE.test(text)) return text.replace(/\+/g, ' ');
  const bytes: number[] = [];
  const source = encoder.encode(text.replace(/\+/g, ' '));
  for (let i = 0; i < source.length; i += 1) {
    const b = source[i]!;
    if (b === 0x25 && i + 2 < source.length && isHex(source[i + 1]!) && isHex(source[i + 2]!)) {
      bytes.push(parseInt(String.fromCharCode(source[i + 1]!, source[i + 2]!), 16));
      i += 2;
    } else {
      bytes.push(b);
    }
  }
  return lenientDecoder.decode(new Uint8Array(bytes));
}

/** Decodes until stable, at most `rounds` times (default 3). */
export function percentDecodeDeep(text: string, rounds = 3): string {
  let current = text;
  for (let i = 0; i < rounds; i += 1) {
    const next = percentDecodeOnce(current);
    if (next === current) break;
    current = next;
  }
  return current;
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}
