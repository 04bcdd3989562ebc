// A stand-in internet for egress tests, on real loopback sockets: a resolver port that answers per name (and per
// call, for DNS rebinding), a dialer that routes chosen public test addresses to loopback servers (like a NAT; any
// other non-loopback address is unreachable), tagged TCP servers, the router's CONNECT listener, and a raw CONNECT
// client. Loopback addresses are dialled for real, so an attack on the router's own loopback services is real too.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { EgressAudit, EgressRefusalEvent } from '../../core/ports/egress-audit.port';
import type { NameResolver } from '../../core/ports/name-resolver.port';
import type { ResolvedAddress } from '../../core/router/egress/egress-types';
import type { ConnectHandler, EgressDialer } from '../../sandbox-node/router/egress/connect-proxy';

/** Answers `names[host][min(call, last)]` (so a list of two plays "public first, private after"); unknown → ENOTFOUND. */
export class ScriptedResolver implements NameResolver {
  readonly calls: string[] = [];
  constructor(private readonly names: Record<string, ReadonlyArray<readonly string[]>>) {}
  async resolve(host: string): Promise<readonly ResolvedAddress[]> {
    const script = this.names[host];
    const n = this.calls.filter((h) => h === host).length;
    this.calls.push(host);
    if (!script || script.length === 0) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    const answers = script[Math.min(n, script.length - 1)]!;
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }
}

/** Routes `address:port` of the stand-in internet to a loopback port; loopback is dialled as is. */
export function natDialer(routes: Map<string, number>): EgressDialer & { dialled: string[] } {
  const dialled: string[] = [];
  const dial = (({ address, port }) => {
    dialled.push(`${address}:${port}`);
    const local = routes.get(`${address}:${port}`);
    if (local !== undefined) return net.connect({ host: '127.0.0.1', port: local });
    if (address.startsWith('127.') || address === '::1') return net.connect({ host: address, port });
    // Unrouted: behave like a refused connection, without touching the real network.
    return net.connect({ host: '127.0.0.1', port: 1 });
  }) as EgressDialer & { dialled: string[] };
  dial.dialled = dialled;
  return dial;
}

export class MemoryEgressAudit implements EgressAudit {
  readonly events: EgressRefusalEvent[] = [];
  async refused(event: EgressRefusalEvent): Promise<void> {
    this.events.push(event);
  }
}

/** A TCP server that answers every connection with `tag\n` and echoes what it reads after that. */
export async function startTaggedServer(tag: string): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write(`${tag}\n`);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** An http server on loopback with the CONNECT handler mounted the way the router listener mounts it. */
export async function startProxy(handler: ConnectHandler): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => { res.statusCode = 404; res.end(); });
  server.on('connect', handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { handler.closeAll(); server.closeAllConnections(); server.close(() => r()); }),
  };
}

export interface ConnectResult {
  status: number;
  /** The refusal body (JSON), or for 200 the first line the tunnelled server sent. */
  body: string;
  headers: string;
  socket: net.Socket;
}

/** Sends `CONNECT authority` and reads the answer; on 200 waits for the tool server's first line through the tunnel. */
export function connectThrough(proxyPort: number, authority: string, timeoutMs = 5000): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: proxyPort });
    let buf = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer to CONNECT ${authority}`)); }, timeoutMs);
    s.setEncoding('utf8');
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const onData = (chunk: string) => {
      buf += chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.slice(0, end);
      const rest = buf.slice(end + 4);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      if (status !== 200) {
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (Buffer.byteLength(rest) < len) return;
        clearTimeout(timer);
        s.off('data', onData);
        resolve({ status, body: rest, headers: head, socket: s });
        return;
      }
      const nl = rest.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      s.off('data', onData);
      resolve({ status, body: rest.slice(0, nl), headers: head, socket: s });
    };
    s.on('data', onData);
  });
}

export const codeOf = (r: ConnectResult): string => (r.status === 200 ? `200:${r.body}` : (JSON.parse(r.body) as { code: string }).code);
