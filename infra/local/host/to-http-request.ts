// Builds the real @azure/functions HttpRequest from a Node request, with a streamed body as the Functions host does
// when `enableHttpStream` is on, so handlers can cap body size while reading.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { HttpRequest, type HttpRequestInit } from '@azure/functions';

/** HttpRequestInit plus the `nativeRequest` field the library's own streaming path uses (not in its public types). */
type StreamingRequestInit = HttpRequestInit & { nativeRequest: Request };

export function toHttpRequest(req: IncomingMessage, baseUrl: string, params: Record<string, string>): HttpRequest {
  const url = new URL(req.url ?? '/', baseUrl).toString();
  const method = (req.method ?? 'GET').toUpperCase();
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    // Hop-by-hop framing headers describe the socket, not the request.
    if (/^(transfer-encoding|connection|keep-alive)$/i.test(name)) continue;
    headers.append(name, req.rawHeaders[i + 1]!);
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const nativeRequest = new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    duplex: 'half',
  } as RequestInit);
  const init: StreamingRequestInit = { method, url, params, nativeRequest };
  return new HttpRequest(init);
}
