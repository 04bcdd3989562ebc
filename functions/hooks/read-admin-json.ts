// Reads an admin API body (T1-T for the operator surface): JSON only, capped while reading, then one zod schema;
// errors name field paths, never values (a create request carries a secret).
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';
import { readCapped } from '../../core/edge/read-capped-body';
import { issuePaths } from '../../core/webhook/parse-event';
import { parseJsonBody } from '../../core/webhook/parse-json-body';
import { errorResponse } from '../http/json-response';
import { streamChunks } from './to-edge-request';

export const ADMIN_MAX_BODY_BYTES = 16 * 1024;

export async function readAdminJson<S extends z.ZodType>(
  req: HttpRequest,
  schema: S,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: HttpResponseInit }> {
  const mediaType = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { ok: false, response: errorResponse('WEBHOOK_CONTENT_TYPE_UNSUPPORTED', 'admin requests must be application/json') };
  }
  const body = req.body === null ? null : streamChunks(req.body as ReadableStream<Uint8Array>);
  const read = await readCapped(body, req.headers.get('content-length') ?? undefined, ADMIN_MAX_BODY_BYTES);
  if (!read.ok) {
    return read.code === 'WEBHOOK_BODY_TOO_LARGE'
      ? { ok: false, response: errorResponse(read.code, `body exceeds ${ADMIN_MAX_BODY_BYTES} bytes`, { connection: 'close' }) }
      : { ok: false, response: errorResponse('INPUT_INVALID', 'body could not be read') };
  }
  const json = parseJsonBody(read.bytes);
  if (!json.ok) return { ok: false, response: errorResponse('INPUT_INVALID', 'body is not valid JSON') };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, response: errorResponse('INPUT_INVALID', `invalid fields: ${issuePaths(parsed.error).join(', ')}`) };
  return { ok: true, value: parsed.data };
}
