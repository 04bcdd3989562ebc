// Reads a JSON request body under a byte cap while streaming (a huge body is refused before it is buffered) and
// only for application/json; used by the rollout routes.
import type { HttpRequest } from '@azure/functions';

export type JsonBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'content-type' | 'too-large' | 'malformed' };

export interface ReadJsonBodyOptions {
  maxBytes: number;
  /** An empty body parses as this value (undefined: an empty body is malformed). */
  emptyValue?: unknown;
}

export async function readJsonBody(req: HttpRequest, options: ReadJsonBodyOptions): Promise<JsonBodyResult> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > options.maxBytes) return { ok: false, reason: 'too-large' };
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > options.maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, reason: 'too-large' };
      }
      chunks.push(value);
    }
  }
  if (total === 0 && options.emptyValue !== undefined) return { ok: true, value: options.emptyValue };
  const contentType = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') return { ok: false, reason: 'content-type' };
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}
