// T2-D "Agent spam-saturates router", tool half on the real listener: the CONNECT proxy is mounted on the router.
// Defends: an agent flooding tool tunnels (each refusal audited) past its rate, or reaching tools in clear through the router as a plain HTTP proxy: tunnels draw on the same per-agent bucket as model calls, before the egress checks; absolute-form requests are refused; drain closes open tunnels.
// One router serves both: model calls (with failover to a fallback deployment) and CONNECT tunnels through the
// egress handler (exact allowlist, IP literals and IMDS refused, audited) over a stand-in internet (natDialer).
// The clock is frozen so the bucket counts are exact. With `rate-limits` off every tunnel reaches the egress checks.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreakerSet, TOOL_BREAKER_DEFAULTS } from '../../core/limits/circuit-breaker-set';
import { silentLogger } from '../../core/ports/logger.port';
import { parseEgressAllowlist } from '../../core/router/egress/egress-allowlist';
import type { RouterMitigation } from '../../core/router/router-mitigations';
import { startIdentityServer, type IdentityServer } from '../../infra/local/identity/identity-server';
import { createConnectHandler } from '../../sandbox-node/router/egress/connect-proxy';
import { startRouterStack, type RouterStack } from '../integration/router/router-stack';
import { chatBody, okJson, startTestUpstream, type TestUpstream } from '../integration/router/test-upstream';
import { codeOf, connectThrough, MemoryEgressAudit, natDialer, ScriptedResolver, startTaggedServer } from '../support/egress-net';

const T0 = 1_800_000_000_000;
let identity: IdentityServer;
let upstream: TestUpstream;
let tool: Awaited<ReturnType<typeof startTaggedServer>>;

beforeAll(async () => {
  identity = await startIdentityServer();
  tool = await startTaggedServer('tool-ok');
  upstream = await startTestUpstream((req, res) => {
    const model = (JSON.parse(req.body) as { model: string }).model;
    if (model === 'gpt-4o-mini') { res.writeHead(503); res.end(); return; }
    okJson(res, { model });
  });
});
afterAll(async () => {
  await upstream?.stop();
  await tool?.close();
  await identity?.stop();
});

async function router(disable: RouterMitigation[] = [], agentBurst = 100) {
  const clock = { nowMs: () => T0 };
  const audit = new MemoryEgressAudit();
  const dial = natDialer(new Map([['52.20.0.9:443', tool.port]]));
  const connect = createConnectHandler(
    { resolver: new ScriptedResolver({ 'tool.example.com': [['52.20.0.9']] }), audit, breakers: new CircuitBreakerSet(clock, TOOL_BREAKER_DEFAULTS), clock, logger: silentLogger, dial },
    { sandboxId: 'test-sandbox', allowlist: parseEgressAllowlist(['tool.example.com:443']) },
  );
  const s = await startRouterStack({
    identity, upstreamUrl: upstream.url, clock, connect, fallbacks: new Map([['gpt-4o-mini', ['gpt-4o-mini-b']]]),
    limits: { globalRps: 500, globalBurst: 1000, agentRps: 50, agentBurst }, _disable: disable,
  });
  return { s, audit, dial, port: Number(new URL(s.url).port) };
}

const chat = (s: RouterStack) => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => c.write(text));
    let out = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => { out += d; });
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

describe('T2-D / T3-S / T3-D through one router listener', () => {
  it('ON: a model call fails over and a tool tunnel opens on the same port; IMDS, unlisted hosts and absolute form are refused', async () => {
    const { s, audit, dial, port } = await router();
    try {
      const r = await chat(s);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ model: 'gpt-4o-mini-b' });
      const ok = await connectThrough(port, 'tool.example.com:443');
      expect(codeOf(ok)).toBe('200:tool-ok');
      ok.socket.destroy();
      const imds = await connectThrough(port, '169.254.169.254:80');
      expect(codeOf(imds)).toBe('EGRESS_IP_LITERAL');
      const other = await connectThrough(port, 'evil.example.com:443');
      expect(codeOf(other)).toBe('EGRESS_HOST_NOT_ALLOWED');
      expect(audit.events.map((e) => e.code)).toEqual(['EGRESS_IP_LITERAL', 'EGRESS_HOST_NOT_ALLOWED']);
      expect(dial.dialled).toEqual(['52.20.0.9:443']);
      const plain = await rawRequest(port, 'GET http://tool.example.com/ HTTP/1.1\r\nHost: tool.example.com\r\nConnection: close\r\n\r\n');
      expect(plain).toMatch(/^HTTP\/1\.1 400 /);
      expect(plain).toContain('ROUTER_ABSOLUTE_FORM_REFUSED');
    } finally { await s.stop(); }
  });

  it('ON: tunnels and model calls share the agent bucket (burst 5): the rest get 429 + Retry-After, unaudited, undialled', async () => {
    const { s, audit, dial, port } = await router([], 5);
    try {
      const codes: string[] = [];
      for (let i = 0; i < 8; i += 1) {
        const r = await connectThrough(port, i % 2 === 0 ? 'tool.example.com:443' : 'evil.example.com:443');
        r.socket.destroy();
        codes.push(r.status === 429 ? `429:${/retry-after: (\d+)/i.exec(r.headers)?.[1]}:${codeOf(r)}` : codeOf(r));
      }
      expect(codes).toEqual([
        '200:tool-ok', 'EGRESS_HOST_NOT_ALLOWED', '200:tool-ok', 'EGRESS_HOST_NOT_ALLOWED', '200:tool-ok',
        ...Array(3).fill('429:1:LIMIT_RATE_EXCEEDED'),
      ]);
      expect(audit.events).toHaveLength(2);
      expect(dial.dialled).toHaveLength(3);
      expect((await chat(s)).status).toBe(429);
    } finally { await s.stop(); }
  });

  it('OFF (rate-limits): every tunnel of the flood reaches the egress checks and the audit', async () => {
    const { s, audit, port } = await router(['rate-limits'], 5);
    try {
      for (let i = 0; i < 8; i += 1) (await connectThrough(port, 'evil.example.com:443')).socket.destroy();
      expect(audit.events).toHaveLength(8);
    } finally { await s.stop(); }
  });

  it('ON: drain closes an open tunnel', async () => {
    const { s, port } = await router();
    const t = await connectThrough(port, 'tool.example.com:443');
    const closed = new Promise<void>((r) => t.socket.once('close', () => r()));
    await s.stop();
    await closed;
    expect(t.socket.destroyed).toBe(true);
  });
});
