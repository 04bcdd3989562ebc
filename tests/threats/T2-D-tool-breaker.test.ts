// T2-D "Agent spam-saturates router", tool half: a circuit breaker per tool host behind the CONNECT proxy.
// Defends: an agent (or a loop in it) hammering a failing tool host through the router: after 5 failures in 30 s the breaker opens and the router answers 503 with Retry-After without dialling; a half-open probe closes it again once the host recovers, a failed probe reopens it.
// Real sockets: the failing host is a routed address whose loopback port refuses connections; recovery routes it to a
// live tool server. Time is a settable clock. With `_disable: ['breaker']` every request dials the failing host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, connectThrough, startTaggedServer } from '../support/egress-net';
import { startEgressFixture } from '../support/egress-fixture';
import type { EgressMitigation } from '../../core/router/egress/egress-types';

let tool: Awaited<ReturnType<typeof startTaggedServer>>;
beforeAll(async () => { tool = await startTaggedServer('tool-ok'); });
afterAll(async () => { await tool.close(); });

const DEAD_PORT = 1; // nothing listens on 127.0.0.1:1

function setup(disable: EgressMitigation[], routes: Map<string, number>) {
  return startEgressFixture({
    allowlist: ['flaky.example.com:443', 'other.example.com:443'],
    names: { 'flaky.example.com': [['52.20.0.9']], 'other.example.com': [['52.20.0.10']] },
    routes,
    disable,
  });
}

async function burst(port: number, authority: string, n: number): Promise<{ codes: string[]; retryAfter: string[] }> {
  const codes: string[] = [];
  const retryAfter: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const r = await connectThrough(port, authority);
    r.socket.destroy();
    codes.push(codeOf(r));
    const ra = /retry-after: (\d+)/i.exec(r.headers)?.[1];
    if (ra) retryAfter.push(ra);
  }
  return { codes, retryAfter };
}

describe('T2-D circuit breaker per tool host', () => {
  it('ON: 5 failures open it; the next 15 are shed without dialling; other hosts are unaffected; audited', async () => {
    const routes = new Map([['52.20.0.9:443', DEAD_PORT], ['52.20.0.10:443', tool.port]]);
    const f = await setup([], routes);
    try {
      const { codes, retryAfter } = await burst(f.port, 'flaky.example.com:443', 20);
      expect(codes.slice(0, 5)).toEqual(Array(5).fill('EGRESS_UPSTREAM_UNREACHABLE'));
      expect(codes.slice(5)).toEqual(Array(15).fill('EGRESS_CIRCUIT_OPEN'));
      expect(retryAfter).toEqual(Array(15).fill('30'));
      expect(f.dial.dialled.filter((d) => d.startsWith('52.20.0.9'))).toHaveLength(5);
      expect(f.resolver.calls.filter((h) => h === 'flaky.example.com')).toHaveLength(5);
      expect((await burst(f.port, 'other.example.com:443', 1)).codes).toEqual(['200:tool-ok']);
      expect(f.audit.events.filter((e) => e.code === 'EGRESS_CIRCUIT_OPEN')).toHaveLength(15);
    } finally { await f.close(); }
  });

  it('ON: after 30 s one probe goes through; a failed probe reopens, a successful one closes', async () => {
    const routes = new Map([['52.20.0.9:443', DEAD_PORT]]);
    const f = await setup([], routes);
    try {
      await burst(f.port, 'flaky.example.com:443', 5);
      f.clock.advance(30_000);
      expect((await burst(f.port, 'flaky.example.com:443', 2)).codes).toEqual(['EGRESS_UPSTREAM_UNREACHABLE', 'EGRESS_CIRCUIT_OPEN']);
      routes.set('52.20.0.9:443', tool.port); // the host recovers
      expect((await burst(f.port, 'flaky.example.com:443', 1)).codes).toEqual(['EGRESS_CIRCUIT_OPEN']);
      f.clock.advance(30_000);
      expect((await burst(f.port, 'flaky.example.com:443', 3)).codes).toEqual(Array(3).fill('200:tool-ok'));
      expect(f.breakers.stateOf('flaky.example.com:443').phase).toBe('closed');
    } finally { await f.close(); }
  });

  it('OFF (breaker): every one of 20 requests dials the failing host', async () => {
    const f = await setup(['breaker'], new Map([['52.20.0.9:443', DEAD_PORT]]));
    try {
      const { codes } = await burst(f.port, 'flaky.example.com:443', 20);
      expect(codes).toEqual(Array(20).fill('EGRESS_UPSTREAM_UNREACHABLE'));
      expect(f.dial.dialled).toHaveLength(20);
    } finally { await f.close(); }
  });
});
