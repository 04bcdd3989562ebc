// Small HTTP plumbing shared by the local identity and Key Vault stand-ins: bounded bodies, JSON replies, request
// logs that carry only method, route template, status and duration (never headers, query strings or bodies).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from '../../../core/ports/logger.port';

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Logs one line per request when the response finishes; `route` must be a template, not the raw path. */
export function logRequest(logger: Logger, component: string, req: IncomingMessage, res: ServerResponse, route: () => string): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    logger.info(`${component}.request`, { method: req.method ?? '', route: route(), status: res.statusCode, ms });
  });
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      if (addr === null || typeof addr === 'string') reject(new Error('server has no TCP address'));
      else resolve(addr.port);
    });
  });
}

/** Stops accepting and drops keep-alive sockets, so a stopped server refuses connections at once. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Path without query string, split into decoded segments; undefined when a segment cannot be decoded. */
export function pathSegments(url: string | undefined): string[] | undefined {
  const pathname = (url ?? '/').split('?')[0] ?? '/';
  try {
    return pathname.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export function queryOf(url: string | undefined): URLSearchParams {
  const i = (url ?? '').indexOf('?');
  return new URLSearchParams(i >= 0 ? (url ?? '').slice(i + 1) : '');
}
