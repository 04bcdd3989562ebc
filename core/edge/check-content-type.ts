// Edge step "content-type" (T1-T): only the media types a channel's bodies are parsed as; anything else is 415 before the body is read.
// A `text/plain` or form POST is what a browser can send cross-origin without a preflight.
import { checkContentType as checkChannelContentType } from '../webhook/content-type';
import type { EdgeContext, EdgeRejection } from './edge-types';

export function checkContentType(ctx: EdgeContext): EdgeRejection | undefined {
  if (ctx.options.disabled.has('content-type') || ctx.channel === undefined) return undefined;
  const verdict = checkChannelContentType(ctx.channel, ctx.request.header('content-type'));
  if (verdict.ok) return undefined;
  return { code: 'HTTP_CONTENT_TYPE_UNSUPPORTED', message: 'content type not accepted for this channel' };
}
