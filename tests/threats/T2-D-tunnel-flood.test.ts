// T2-D "Agent spam-saturates router", tunnel half: the CONNECT proxy bounds concurrent tunnels and closes idle ones.
// Defends: an agent opening tunnels without end (file descriptors, memory) or parking idle tunnels to starve the router: past `maxTunnels` it gets 503 EGRESS_TUNNELS_EXHAUSTED, and a tunnel idle for `idleTimeoutMs` is closed.
// Real sockets on loopback; each mitigation also runs switched off through `_disable`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressMitigation } from '../../core/router/egress/egress-types';
import { codeOf, connectThrough, startTaggedServer, type ConnectResult } from '../support/egress-net';
import { startEgressFixture } from '../support/egress-fixture';

let tool: Awaited<ReturnType<typeof startTaggedServer>>;
beforeAll(async () => { tool = await startTaggedServer('tool-ok'); });
afterAll(async () => { await tool.close(); });

function setup(disable: EgressMitigation[], proxy: { maxTunnels?: number; idleTimeoutMs?: number }) {
  return startEgressFixture({
    allowlist: ['tools.example.com:443'],
    names: { 'tools.example.com': [['52.30.0.1']] },
    routes: new Map([['52.30.0.1:443', tool.port]]),
    disable,
    proxy,
  });
}

const closed = (s: ConnectResult['socket'], withinMs: number) => new Promise<boolean>((resolve) => {
  if (s.destroyed) { resolve(true); return; }
  const t = setTimeout(() => resolve(false), withinMs);
  s.once('close', () => { clearTimeout(t); resolve(true); });
});

describe('T2-D concurrent tunnel cap', () => {
  it('ON: the 5th concurrent tunnel is refused and audited; closing one makes room', async () => {
    const f = await setup([], { maxTunnels: 4 });
    try {
      const open = await Promise.all([1, 2, 3, 4].map(() => connectThrough(f.port, 'tools.example.com:443')));
      expect(open.map(codeOf)).toEqual(Array(4).fill('200:tool-ok'));
      const fifth = await connectThrough(f.port, 'tools.example.com:443');
      expect(codeOf(fifth)).toBe('EGRESS_TUNNELS_EXHAUSTED');
      expect(f.audit.events.map((e) => e.code)).toEqual(['EGRESS_TUNNELS_EXHAUSTED']);
      open[0]!.socket.destroy();
      // Wait until the proxy saw the close on its side (not a fixed sleep: the machine may be loaded).
      for (let i = 0; i < 200 && f.handler.activeTunnels() >= 4; i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(f.handler.activeTunnels()).toBe(3);
      const again = await connectThrough(f.port, 'tools.example.com:443');
      expect(codeOf(again)).toBe('200:tool-ok');
      for (const r of [...open, fifth, again]) r.socket.destroy();
    } finally { await f.close(); }
  });

  it('OFF (tunnel-limit): the 5th tunnel opens too', async () => {
    const f = await setup(['tunnel-limit'], { maxTunnels: 4 });
    try {
      const open = await Promise.all([1, 2, 3, 4, 5].map(() => connectThrough(f.port, 'tools.example.com:443')));
      expect(open.map(codeOf)).toEqual(Array(5).fill('200:tool-ok'));
      expect(f.handler.activeTunnels()).toBe(5);
      for (const r of open) r.socket.destroy();
    } finally { await f.close(); }
  });
});

describe('T2-D idle tunnels', () => {
  // 1 s idle against a write every 100 ms: a busy tunnel would need a 900 ms event-loop stall to be mistaken for idle.
  it('ON: a tunnel idle for 1 s is closed, while one in use stays open', async () => {
    const f = await setup([], { idleTimeoutMs: 1000 });
    try {
      const idle = await connectThrough(f.port, 'tools.example.com:443');
      const busy = await connectThrough(f.port, 'tools.example.com:443');
      const ticker = setInterval(() => busy.socket.write('x'), 100);
      expect(await closed(idle.socket, 10_000)).toBe(true);
      expect(busy.socket.destroyed).toBe(false);
      clearInterval(ticker);
      busy.socket.destroy();
    } finally { await f.close(); }
  });

  it('OFF (idle-timeout): the idle tunnel is still open after 2.5 s', async () => {
    const f = await setup(['idle-timeout'], { idleTimeoutMs: 1000 });
    try {
      const idle = await connectThrough(f.port, 'tools.example.com:443');
      expect(await closed(idle.socket, 2500)).toBe(false);
      idle.socket.destroy();
    } finally { await f.close(); }
  });
});
