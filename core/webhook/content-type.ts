// Content-Type allowlist per channel (T1-T, answered with 415): only media types whose bodies the edge parses.
import { mediaTypeOf } from '../http/media-type';
import type { WebhookChannel } from './types';

/**
 * Accepted media types. All four channels deliver JSON for the events this edge handles. Slack slash commands and
 * interactivity payloads are `application/x-www-form-urlencoded` and are deliberately not accepted (no schema here).
 */
export const CHANNEL_MEDIA_TYPES: Readonly<Record<WebhookChannel, readonly string[]>> = Object.freeze({
  standard: Object.freeze(['application/json']),
  github: Object.freeze(['application/json']),
  slack: Object.freeze(['application/json']),
  teams: Object.freeze(['application/json']),
});

/**
 * Checks a Content-Type header against the channel's allowlist. Media type and charset compare case-insensitively;
 * a charset other than UTF-8 or any other parameter is refused, because the body is parsed as UTF-8.
 * @returns ok, or HTTP_CONTENT_TYPE_UNSUPPORTED (415)
 * @example checkContentType('github', 'application/json; charset=utf-8') // { ok: true }
 */
export function checkContentType(
  channel: WebhookChannel,
  contentType: string | undefined,
): { ok: true } | { ok: false; code: 'HTTP_CONTENT_TYPE_UNSUPPORTED' } {
  const refused = { ok: false, code: 'HTTP_CONTENT_TYPE_UNSUPPORTED' } as const;
  const mediaType = mediaTypeOf(contentType);
  const allowed = CHANNEL_MEDIA_TYPES[channel];
  if (mediaType === undefined || allowed === undefined || !allowed.includes(mediaType)) return refused;
  return { ok: true };
}
