// Byte concatenation for KDF inputs and associated data (one helper instead of a copy per file).

/** A new Uint8Array holding `parts` one after another. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
