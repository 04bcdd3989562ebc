// Loads vector files from tests/vectors/<source>/*.json; each file carries its own provenance block.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadVectors<T>(relativePath: string): T {
  return JSON.parse(readFileSync(join(__dirname, relativePath), 'utf8')) as T;
}

/** Exact body bytes of a vector: `bodyBase64` wins over `bodyUtf8`. */
export function vectorBody(v: { bodyBase64?: string; bodyUtf8?: string }): Uint8Array {
  if (v.bodyBase64 !== undefined) return new Uint8Array(Buffer.from(v.bodyBase64, 'base64'));
  if (v.bodyUtf8 !== undefined) return new TextEncoder().encode(v.bodyUtf8);
  throw new Error('vector has no body');
}
