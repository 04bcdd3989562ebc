// Reads a mesh request body: JSON only (415), capped while reading (413), then one zod schema (400 naming field paths,
// never values).
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';
import { readCapped } from '../../core/edge/read-capped-body';
import { issuePaths } from '../../core/webhook/parse-event';
import { parseJsonBody } from '../../core/webhook/parse-json-body';
import { streamChunks } from '../hooks/to-edge-request';
import { errorResponse } from '../http/json-response';

export async function readMeshJson<S extends z.ZodType>(
  req: HttpRequest, schema: S, maxBytes: number,
): Promise<{ ok: true; value: z.infer<S>; sizeBytes: number } | { ok: false; response: HttpResponseInit }> {
  const mediaType = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') return { ok: false, response: errorResponse('WEBHOOK_CONTENT_TYPE_UNSUPPORTED', 'requests must be application/json') };
  const body = req.body === null ? null : streamChunks(req.body as ReadableStream<Uint8Array>);
  const read = await readCapped(body, req.headers.get('content-length') ?? undefined, maxBytes);
  if (!read.ok) {
    return read.code === 'WEBHOOK_BODY_TOO_LARGE'
      ? { ok: false, response: errorResponse(read.code, `body exceeds ${maxBytes} bytes`, { connection: 'close' }) }
      : { ok: false, response: errorResponse('INPUT_INVALID', 'body could not be read') };
  }
  const json = parseJsonBody(read.bytes);
  if (!json.ok) return { ok: false, response: errorResponse('INPUT_INVALID', 'body is not valid JSON') };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, response: errorResponse('INPUT_INVALID', `invalid fields: ${issuePaths(parsed.error).join(', ')}`) };
  return { ok: true, value: parsed.data, sizeBytes: read.bytes.length };
}
