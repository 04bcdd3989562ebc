// The one JSON body reader of every route that takes a JSON body (hook admin, rollouts, the sandbox router; the edge
// runs the same parts as separate steps around its signature check). T1-T, T1-D, in this order: the content type (415)
// before a single byte is read, the size cap while streaming (413, also for chunked bodies without Content-Length),
// then the strict parser (400: UTF-8, JSON, no prototype-poisoning keys). The caller's schema comes after.
import { parseJsonBody } from '../webhook/parse-json-body';
import { mediaTypeOf } from './media-type';
import { readCapped } from './read-capped';

export interface JsonBodySource {
  /** The raw Content-Type header. */
  contentType: string | undefined;
  /** The raw Content-Length header, if any (absent for a chunked body). */
  contentLength: string | undefined;
  chunks: AsyncIterable<Uint8Array> | null;
}

export type JsonBodyCode = 'HTTP_CONTENT_TYPE_UNSUPPORTED' | 'HTTP_BODY_TOO_LARGE' | 'HTTP_BODY_MALFORMED';

/** The parsed value, and the bytes it was parsed from (what a proxy forwards unchanged). */
export type JsonBodyRead = { ok: true; value: unknown; bytes: Uint8Array } | { ok: false; code: JsonBodyCode; message: string };

/**
 * Reads an `application/json` body of at most `maxBodyBytes`. Messages are fixed texts: nothing the sender wrote.
 * @throws {TypeError} when a chunk is not a Uint8Array (a wiring bug, not sender input)
 */
export async function readJsonBody(source: JsonBodySource, maxBodyBytes: number): Promise<JsonBodyRead> {
  if (mediaTypeOf(source.contentType) !== 'application/json') {
    return { ok: false, code: 'HTTP_CONTENT_TYPE_UNSUPPORTED', message: 'content-type must be application/json' };
  }
  const read = await readCapped(source.chunks, source.contentLength, maxBodyBytes);
  if (!read.ok) {
    return read.code === 'HTTP_BODY_TOO_LARGE'
      ? { ok: false, code: read.code, message: `request body exceeds ${maxBodyBytes} bytes` }
      : { ok: false, code: read.code, message: 'request body could not be read' };
  }
  const json = parseJsonBody(read.bytes);
  if (!json.ok) return { ok: false, code: 'HTTP_BODY_MALFORMED', message: 'request body is not valid JSON' };
  return { ok: true, value: json.value, bytes: read.bytes };
}
