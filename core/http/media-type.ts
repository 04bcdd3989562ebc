// The media type of a Content-Type header, for the routes' allowlists (T1-T, answered with 415 before the body is read).
// RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS parameter ); the only parameter accepted is charset=utf-8,
// because every body is parsed as UTF-8.

const CHARSET_RE = /^charset=(?:"utf-8"|utf-8)$/i;
const MAX_HEADER_LENGTH = 256;

/**
 * @returns the lower-cased media type (`application/json`), or undefined when the header is missing, over-long, or has
 *   a parameter other than one `charset=utf-8`
 * @example mediaTypeOf('Application/JSON; charset="utf-8"') // 'application/json'
 */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (typeof contentType !== 'string' || contentType.length > MAX_HEADER_LENGTH) return undefined;
  const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim());
  if (params.length > 1 || (params.length === 1 && !CHARSET_RE.test(params[0] ?? ''))) return undefined;
  return mediaType.toLowerCase();
}
