// Test helper: a plain-HTTP upstream on loopback whose behaviour each attack test scripts (a hostile or compromised
// model endpoint, a slow one, a counting one). It records what reached it.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestUpstream {
  url: string;
  seen: SeenRequest[];
  stop(): Promise<void>;
}

export async function startTestUpstream(
  handler: (req: SeenRequest, res: http.ServerResponse) => void | Promise<void>,
): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
      seen.push(r);
      void Promise.resolve(handler(r, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const okJson = (res: http.ServerResponse, body: unknown = { ok: true }): void => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export const chatBody = (content = 'hi', model = 'gpt-4o-mini'): string => JSON.stringify({ model, messages: [{ role: 'user', content }] });
