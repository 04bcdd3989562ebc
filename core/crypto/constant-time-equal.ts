// Constant-time byte comparison for MACs and tokens (T1-S: a short-circuit === compare is a signing oracle).
import { timingSafeEqual } from 'node:crypto';
import { abytes } from './assert';

/**
 * Compares two byte arrays without an early exit on the first differing byte. Different lengths return false at once:
 * the length of a MAC is public, its bytes are not. Uses `node:crypto.timingSafeEqual`, which honours `byteOffset`
 * (the Standard Webhooks JS helper wraps `a.buffer` in a DataView and compares the wrong bytes for subarrays).
 * JavaScript only gives algorithmic constant time; the engine may still leak through caches.
 * @param a first value
 * @param b second value
 * @returns true when both hold the same bytes
 * @throws {TypeError} when either argument is not a Uint8Array
 * @example constantTimeEqual(expectedMac, receivedMac)
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  abytes(a, undefined, 'a');
  abytes(b, undefined, 'b');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
