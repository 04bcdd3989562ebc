// The CONNECT proxy as agent libraries use it (T3-S): curl with HTTPS_PROXY reaches an allowlisted HTTPS tool with
// end-to-end TLS (the router only splices bytes), pipelined bytes after CONNECT are forwarded, lookup failures and
// timeouts are refused and audited, an audit outage still refuses, and shutdown closes every tunnel.
import { execFile } from 'node:child_process';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreakerSet } from '../../../../core/limits/circuit-breaker-set';
import { silentLogger } from '../../../../core/ports/logger.port';
import { parseEgressAllowlist } from '../../../../core/router/egress/egress-allowlist';
import { ensureDevTls, type DevTls } from '../../../../infra/local/tls/dev-tls';
import { createConnectHandler } from '../../../../sandbox-node/router/egress/connect-proxy';
import { settableClock } from '../../../core/edge/edge-fixture';
import { codeOf, connectThrough, natDialer, startProxy, startTaggedServer } from '../../../support/egress-net';
import { startEgressFixture } from '../../../support/egress-fixture';

const run = promisify(execFile);
let dev: DevTls;
let tlsTool: https.Server;
let tlsPort: number;
let echo: Awaited<ReturnType<typeof startTaggedServer>>;

beforeAll(async () => {
  dev = await ensureDevTls();
  tlsTool = https.createServer({ cert: dev.certPem, key: dev.keyPem }, (_req, res) => res.end('tool-ok'));
  await new Promise<void>((r) => tlsTool.listen(0, '127.0.0.1', r));
  tlsPort = (tlsTool.address() as AddressInfo).port;
  echo = await startTaggedServer('echo');
});
afterAll(async () => {
  tlsTool.closeAllConnections();
  await new Promise((r) => tlsTool.close(r));
  await echo.close();
});

function curl(proxyPort: number, url: string) {
  return run('curl', ['-sS', '--max-time', '10', '--cacert', dev.caCertFile, url], {
    env: { PATH: process.env.PATH, HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '' },
  }).then((r) => ({ ok: true, out: r.stdout }), (e: { code?: number; stderr?: string }) => ({ ok: false, out: `${e.code}: ${e.stderr}` }));
}

describe('CONNECT proxy with a real client (curl, HTTPS_PROXY)', () => {
  it('tunnels an allowlisted HTTPS tool with TLS verified end to end; refuses the rest', async () => {
    const f = await startEgressFixture({
      allowlist: [`localhost:${tlsPort}`],
      names: { localhost: [['52.40.0.1']] },
      routes: new Map([[`52.40.0.1:${tlsPort}`, tlsPort]]),
    });
    try {
      expect(await curl(f.port, `https://localhost:${tlsPort}/`)).toEqual({ ok: true, out: 'tool-ok' });
      const refused = await curl(f.port, `https://api.example.net:${tlsPort}/`);
      expect(refused.ok).toBe(false);
      expect(refused.out).toContain('403');
      expect(f.audit.events.map((e) => e.code)).toEqual(['EGRESS_HOST_NOT_ALLOWED']);
    } finally { await f.close(); }
  });
});

describe('CONNECT proxy plumbing', () => {
  const base = () => ({
    allowlist: ['echo.example.com:443', 'gone.example.com:443', 'slow.example.com:443'],
    names: { 'echo.example.com': [['52.41.0.1']] },
    routes: new Map([['52.41.0.1:443', echo.port]]),
  });

  it('forwards bytes the client pipelined after the CONNECT head', async () => {
    const f = await startEgressFixture(base());
    try {
      const s = net.connect({ host: '127.0.0.1', port: f.port });
      s.setEncoding('utf8');
      let got = '';
      s.on('data', (c: string) => { got += c; });
      s.write('CONNECT echo.example.com:443 HTTP/1.1\r\nHost: echo.example.com:443\r\n\r\nhello\n');
      for (let i = 0; i < 300 && !got.includes('hello'); i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(got).toBe('HTTP/1.1 200 Connection Established\r\n\r\necho\nhello\n');
      s.destroy();
    } finally { await f.close(); }
  });

  it('an unresolvable name is 502 EGRESS_RESOLVE_FAILED, audited', async () => {
    const f = await startEgressFixture(base());
    try {
      const r = await connectThrough(f.port, 'gone.example.com:443');
      r.socket.destroy();
      expect(r.status).toBe(502);
      expect(codeOf(r)).toBe('EGRESS_RESOLVE_FAILED');
      expect(f.audit.events.map((e) => e.reason)).toEqual(['lookup-failed']);
    } finally { await f.close(); }
  });

  it('a lookup that hangs is cut at resolveTimeoutMs', async () => {
    const clock = settableClock();
    const events: string[] = [];
    const handler = createConnectHandler({
      resolver: { resolve: () => new Promise(() => {}) },
      audit: { refused: async (e) => { events.push(e.code); } },
      breakers: new CircuitBreakerSet(clock), clock, logger: silentLogger, dial: natDialer(new Map()),
    }, { sandboxId: 's', allowlist: parseEgressAllowlist(['slow.example.com:443']), resolveTimeoutMs: 100 });
    const proxy = await startProxy(handler);
    try {
      const r = await connectThrough(proxy.port, 'slow.example.com:443');
      r.socket.destroy();
      expect(codeOf(r)).toBe('EGRESS_RESOLVE_FAILED');
      expect(events).toEqual(['EGRESS_RESOLVE_FAILED']);
    } finally { await proxy.close(); }
  });

  it('still refuses when the audit itself fails', async () => {
    const clock = settableClock();
    const handler = createConnectHandler({
      resolver: { resolve: async () => [] },
      audit: { refused: async () => { throw new Error('store down'); } },
      breakers: new CircuitBreakerSet(clock), clock, logger: silentLogger,
    }, { sandboxId: 's', allowlist: undefined });
    const proxy = await startProxy(handler);
    try {
      const r = await connectThrough(proxy.port, 'echo.example.com:443');
      r.socket.destroy();
      expect(codeOf(r)).toBe('EGRESS_HOST_NOT_ALLOWED');
    } finally { await proxy.close(); }
  });

  it('closeAll destroys open tunnels (shutdown)', async () => {
    const f = await startEgressFixture(base());
    try {
      const r = await connectThrough(f.port, 'echo.example.com:443');
      expect(f.handler.activeTunnels()).toBe(1);
      const closed = new Promise<void>((res) => r.socket.once('close', () => res()));
      f.handler.closeAll();
      await closed;
      expect(r.socket.destroyed).toBe(true);
    } finally { await f.close(); }
  });
});

describe('CONNECT proxy closing', () => {
  it('delivers every byte a tool sends just before it closes (no truncation on upstream close)', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const server = net.createServer((s) => { s.end(payload); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const f = await startEgressFixture({
      allowlist: ['bulk.example.com:443'], names: { 'bulk.example.com': [['52.42.0.1']] }, routes: new Map([['52.42.0.1:443', port]]),
    });
    try {
      const s = net.connect({ host: '127.0.0.1', port: f.port });
      s.write('CONNECT bulk.example.com:443 HTTP/1.1\r\nHost: bulk.example.com:443\r\n\r\n');
      // A slow reader: the proxy's write queue to the client is still full when the tool's FIN arrives.
      let received = 0;
      s.on('data', (c: Buffer) => { received += c.length; s.pause(); setTimeout(() => s.resume(), 2); });
      await new Promise<void>((r) => s.once('close', () => r()));
      const head = 'HTTP/1.1 200 Connection Established\r\n\r\n'.length;
      expect(received - head).toBe(payload.length);
    } finally {
      await f.close();
      await new Promise((r) => server.close(r));
    }
  });
});
