// T1-T, T1-D: a request body is read chunk by chunk and reading stops as soon as the cap is passed, so a chunked body
// without Content-Length cannot make a route buffer more than the cap plus one chunk. A declared Content-Length above
// the cap is refused without reading at all. Every route that reads a body reads it here.

const CONTENT_LENGTH_RE = /^[0-9]{1,15}$/;

export type CappedRead = { ok: true; bytes: Uint8Array } | { ok: false; code: 'HTTP_BODY_TOO_LARGE' | 'HTTP_BODY_MALFORMED' };

/**
 * Reads `chunks` into one byte array unless more than `capBytes` arrive (undefined: no cap). Leaving the loop early
 * calls the iterator's `return()`; what that does to the underlying stream is the caller's choice.
 * @param declaredLength the raw Content-Length header, if any
 * @throws {TypeError} when a chunk is not a Uint8Array (a wiring bug, not sender input)
 */
export async function readCapped(
  chunks: AsyncIterable<Uint8Array> | null,
  declaredLength: string | undefined,
  capBytes: number | undefined,
): Promise<CappedRead> {
  if (capBytes !== undefined && declaredLength !== undefined && CONTENT_LENGTH_RE.test(declaredLength) && Number(declaredLength) > capBytes) {
    return { ok: false, code: 'HTTP_BODY_TOO_LARGE' };
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  let notBytes = false;
  if (chunks !== null) {
    try {
      for await (const chunk of chunks) {
        if (!(chunk instanceof Uint8Array)) {
          notBytes = true;
          break;
        }
        total += chunk.byteLength;
        // Leaving the loop stops the pull here: the rest of the body is never buffered.
        if (capBytes !== undefined && total > capBytes) return { ok: false, code: 'HTTP_BODY_TOO_LARGE' };
        parts.push(chunk);
      }
    } catch {
      // The sender hung up or the stream broke mid-body: nothing verifiable arrived.
      return { ok: false, code: 'HTTP_BODY_MALFORMED' };
    }
  }
  if (notBytes) throw new TypeError('"body" expected chunks of Uint8Array');
  // One chunk (the common case for small webhooks): no copy.
  if (parts.length === 1) return { ok: true, bytes: parts[0]! };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return { ok: true, bytes };
}
