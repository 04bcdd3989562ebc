// T3-I: the streaming redactor catches a credential wherever the chunk boundaries fall, and lets ordinary SSE events
// through without holding them back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTION, createStreamRedactor } from '../../../core/router/stream-redactor';
import { assertProperty } from '../../support/property';

const enc = new TextEncoder();
const dec = new TextDecoder();
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJlLXBhcnQ';
const OPAQUE = 'opaqueKEY0123456789abcdefXYZ';

function runSplit(text: string, cuts: number[], secrets: string[] = []): string {
  const r = createStreamRedactor({ secrets });
  const bytes = enc.encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let out = '';
  let at = 0;
  const parts: Uint8Array[] = [];
  for (const p of [...points, bytes.length]) {
    parts.push(r.push(bytes.subarray(at, p)));
    at = p;
  }
  parts.push(r.end());
  const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    total.set(p, o);
    o += p.length;
  }
  out = dec.decode(total);
  return out;
}

describe('stream redactor', () => {
  const samples = [
    `data: {"error":"invalid token: Bearer ${JWT}"}\n\n`,
    `{"echo":"${JWT}","ok":true}`,
    `Authorization: Bearer ${OPAQUE}==\r\n`,
    `{"api-key": "${OPAQUE}", "x-api-key":"${OPAQUE}"}`,
    `prefix ${OPAQUE} suffix`, // exact secret
    `grüße ✓ ${JWT} ende`,
  ];

  it('redacts JWTs, Bearer values, keyed values and exact secrets at every split point (property, 2 to 6 chunks)', () => {
    assertProperty(
      fc.property(fc.constantFrom(...samples), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), (text, cuts) => {
        const out = runSplit(text, cuts, [OPAQUE]);
        expect(out).not.toContain(JWT.slice(0, 40));
        expect(out).not.toContain(OPAQUE);
        expect(out).toContain(REDACTION);
      }),
      { numRuns: 400 },
    );
  });

  it('every single split position of a token (exhaustive)', () => {
    const text = `data: {"t":"Bearer ${JWT}"}\n\n`;
    for (let i = 0; i <= text.length; i++) expect(runSplit(text, [i]), `cut ${i}`).toBe(`data: {"t":"Bearer ${REDACTION}"}\n\n`);
  });

  it('keeps text without credentials byte for byte, multi-byte UTF-8 included', () => {
    assertProperty(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (s, cuts) => {
        const text = s.replace(/eyJ|bearer|api|key|token/gi, '');
        expect(runSplit(text, cuts)).toBe(text);
      }),
    );
  });

  it('does not hold back an SSE event that ends in a newline', () => {
    const r = createStreamRedactor({ secrets: [OPAQUE] });
    const event = 'data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n';
    expect(dec.decode(r.push(enc.encode(event)))).toBe(event);
    const partial = 'data: {"content":"abc';
    expect(dec.decode(r.push(enc.encode(partial))).length).toBeLessThan(partial.length); // a token-like tail waits
  });

  it('refuses too-short exact secrets (they would shred ordinary text)', () => {
    expect(() => createStreamRedactor({ secrets: ['short'] })).toThrow(RangeError);
  });
});
