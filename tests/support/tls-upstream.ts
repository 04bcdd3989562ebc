// A model-upstream stand-in over real TLS on loopback, and one request through an agent, for the T3-T tests.
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { spkiPin } from '../../core/router/upstream/spki-pins';

export interface TlsUpstream { port: number; hits: () => number; close: () => Promise<void> }

export async function startTlsUpstream(tls: https.ServerOptions, tag = 'model-ok', status = 200, headers: Record<string, string> = {}): Promise<TlsUpstream> {
  let hits = 0;
  const server = https.createServer(tls, (_req, res) => { hits += 1; res.writeHead(status, headers); res.end(tag); });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** GET through `agent`; resolves with status and body, or with the error (never rejects). */
export function getThrough(agent: https.Agent, host: string, port: number, extra: https.RequestOptions = {}): Promise<{ status?: number; body?: string; error?: Error & { code?: string } }> {
  return new Promise((resolve) => {
    const req = https.request({ host, port, path: '/v1/models', method: 'GET', agent, ...extra }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (e: Error & { code?: string }) => resolve({ error: e }));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The HPKP-style pin of a PEM certificate's public key. */
export const pinOf = (certPem: string): string => spkiPin(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }));
