// Reads a route's JSON body with the one capped reader (core/http/read-json-body.ts: 415, 413, 400 in that order)
// and one zod schema (INPUT_INVALID naming field paths, never values: an admin request carries a secret).
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';
import { readJsonBody } from '../../core/http/read-json-body';
import { issuePaths } from '../../core/webhook/parse-event';
import { bodyChunks } from './body-chunks';
import { errorResponse } from './json-response';

/** `sizeBytes`: the body's length as received (the relay store records an envelope's size, never its content). */
export type JsonRequestRead<T> = { ok: true; value: T; sizeBytes: number } | { ok: false; response: HttpResponseInit };

export async function readJsonRequest<S extends z.ZodType>(
  req: Pick<HttpRequest, 'headers' | 'body'>,
  schema: S,
  maxBodyBytes: number,
): Promise<JsonRequestRead<z.infer<S>>> {
  const read = await readJsonBody(
    { contentType: req.headers.get('content-type') ?? undefined, contentLength: req.headers.get('content-length') ?? undefined, chunks: bodyChunks(req) },
    maxBodyBytes,
  );
  if (!read.ok) {
    // The rest of an over-long body is still on the wire: do not reuse this connection.
    const headers: Record<string, string> = read.code === 'HTTP_BODY_TOO_LARGE' ? { connection: 'close' } : {};
    return { ok: false, response: errorResponse(read.code, read.message, headers) };
  }
  const parsed = schema.safeParse(read.value);
  if (!parsed.success) return { ok: false, response: errorResponse('INPUT_INVALID', `invalid fields: ${issuePaths(parsed.error).join(', ')}`) };
  return { ok: true, value: parsed.data, sizeBytes: read.bytes.length };
}
