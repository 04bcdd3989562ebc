// Edge step "size cap" (T1-T, T1-D): the webhook body through the shared capped reader (core/http/read-capped.ts),
// then its digest for the receipt.
import { readCapped } from '../http/read-capped';
import { sha256Hex } from '../crypto/sha256-hex';
import type { EdgeContext, EdgeRejection } from './edge-types';

export async function readCappedBody(ctx: EdgeContext): Promise<EdgeRejection | undefined> {
  const cap = ctx.options.disabled.has('size-cap') ? undefined : ctx.options.maxBodyBytes;
  const read = await readCapped(ctx.request.body, ctx.request.header('content-length'), cap);
  if (!read.ok) {
    return read.code === 'HTTP_BODY_TOO_LARGE'
      ? { code: 'HTTP_BODY_TOO_LARGE', message: `request body exceeds ${ctx.options.maxBodyBytes} bytes` }
      : { code: 'HTTP_BODY_MALFORMED', message: 'request body could not be read' };
  }
  ctx.body = read.bytes;
  ctx.bodyDigest = sha256Hex(read.bytes);
  return undefined;
}
