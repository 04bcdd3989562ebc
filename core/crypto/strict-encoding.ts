// Strict hex/base64 codecs: Node's Buffer decoders silently skip bad characters, which would let "sha256=zz…" or a
// truncated base64 signature decode to *something*. These return undefined instead (T1-S, malformed signatures).

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
// Standard alphabet with padding, the form Standard Webhooks, Teams and our secrets use (RFC 4648 §4).
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes lower- or upper-case hex. Returns undefined for an odd length, a non-hex character or a length other than
 * `expectedBytes` (when given).
 * @param text hex text
 * @param expectedBytes exact decoded length required
 * @returns the bytes, or undefined when `text` is not strict hex
 * @example decodeHexStrict('00ff', 2) // Uint8Array [0, 255]
 */
export function decodeHexStrict(text: string, expectedBytes?: number): Uint8Array | undefined {
  if (typeof text !== 'string' || !HEX_RE.test(text)) return undefined;
  if (expectedBytes !== undefined && text.length !== expectedBytes * 2) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/**
 * Decodes canonical padded base64 (standard alphabet). Returns undefined for missing or extra padding, URL-safe
 * characters, whitespace, non-zero trailing bits, or a length other than `expectedBytes` (when given).
 * @param text base64 text
 * @param expectedBytes exact decoded length required
 * @returns the bytes, or undefined when `text` is not canonical base64
 * @example decodeBase64Strict('AAE=') // Uint8Array [0, 1]
 */
export function decodeBase64Strict(text: string, expectedBytes?: number): Uint8Array | undefined {
  if (typeof text !== 'string' || !B64_RE.test(text)) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  // Non-canonical encodings (stray low bits in the last symbol) decode to the same bytes as another text; refuse them
  // so one signature has exactly one accepted spelling.
  if (Buffer.from(bytes).toString('base64') !== text) return undefined;
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) return undefined;
  return bytes;
}

/** Lower-case hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Padded standard base64 of `bytes`. */
export function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8ToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}
