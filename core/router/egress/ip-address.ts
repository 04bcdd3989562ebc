// IP address text → bytes, strict (T3-S, T2-I): the egress policy classifies every address the resolver returns and
// refuses any host an OS resolver would read as an address. Pure TypeScript: core may not import node:net.

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Strict dotted-decimal IPv4 (`a.b.c.d`, no leading zeros, no short forms); undefined otherwise. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i += 1) {
    const p = parts[i]!;
    if (!DEC_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** RFC 4291 §2.2 text forms (compression, trailing dotted quad); zone ids and brackets are refused. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45 || text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const words: number[] = [];
  const all = [...head, ...(halves.length === 2 ? ['::'] : []), ...tail];
  for (let i = 0; i < all.length; i += 1) {
    const g = all[i]!;
    if (g === '::') { words.push(-1); continue; }
    if (i === all.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      if (!v4) return undefined;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (!HEXTET.test(g)) return undefined;
    words.push(parseInt(g, 16));
  }
  const gap = words.indexOf(-1);
  const present = words.filter((w) => w !== -1).length;
  if (gap === -1 ? present !== 8 : present > 7) return undefined;
  const full = gap === -1 ? words : [...words.slice(0, gap), ...new Array<number>(8 - present).fill(0), ...words.slice(gap + 1)];
  const out = new Uint8Array(16);
  full.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** A strict IPv4 or IPv6 literal (no brackets), or undefined. */
export function parseIpAddress(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 ? { family: 6, bytes: v6 } : undefined;
}

/**
 * True when a resolver or URL parser could take `host` for an address rather than a name: IPv6 (any colon or
 * bracket), and every inet_aton / WHATWG-URL IPv4 spelling (`2130706433`, `0x7f.1`, `127.1`, `017700000001`), which
 * all end in a numeric label. Names never end in one (no TLD is numeric), so nothing legitimate is lost.
 */
export function looksLikeIpLiteral(host: string): boolean {
  if (host.includes(':') || host.includes('[') || host.includes(']')) return true;
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  const last = labels[labels.length - 1] ?? '';
  return /^(0x[0-9a-f]*|[0-9]+)$/i.test(last);
}

/** Canonical text (dotted quad, or RFC 5952 lower-case compressed IPv6) for logs and receipts. */
export function formatIpAddress(ip: IpAddress): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const words = Array.from({ length: 8 }, (_, i) => (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i += 1; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j += 1;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
