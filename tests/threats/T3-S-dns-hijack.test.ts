// T3-S "Spoofed endpoint via DNS hijack", tool half: the agent's tool traffic goes through the router's CONNECT proxy.
// Defends: DNS rebinding (a name checked as public, then re-resolved to loopback), allowlisted names resolving into private ranges, hosts off the allowlist, bare IP literals in every spelling, and a missing allowlist (fail closed).
// Real sockets on loopback: the router's listener, the tool servers and an "internal" service the attacker wants.
// Public test addresses are routed to loopback by the test dialer; loopback itself is dialled for real. Each attack
// runs with its mitigation on (refused and audited) and off through `_disable` (it reaches the internal service).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, connectThrough, startTaggedServer } from '../support/egress-net';
import { startEgressFixture, type EgressFixtureOptions } from '../support/egress-fixture';

let tool: Awaited<ReturnType<typeof startTaggedServer>>;
let internal: Awaited<ReturnType<typeof startTaggedServer>>;
let attacker: Awaited<ReturnType<typeof startTaggedServer>>;

beforeAll(async () => {
  [tool, internal, attacker] = await Promise.all([startTaggedServer('tool-ok'), startTaggedServer('internal-secret'), startTaggedServer('attacker')]);
});
afterAll(async () => { await Promise.all([tool.close(), internal.close(), attacker.close()]); });

// The internal service listens on 127.0.0.1:P; every tool name is allowlisted on that same port P, so a name that
// resolves (or rebinds) to 127.0.0.1 would land on it.
function setup(disable: EgressFixtureOptions['disable'] = [], extra: Partial<EgressFixtureOptions> = {}) {
  const P = internal.port;
  return startEgressFixture({
    allowlist: [`tools.example.com:${P}`, `rebind.example.com:${P}`, `internal.example.com:${P}`, `mixed.example.com:${P}`],
    names: {
      'tools.example.com': [['52.10.0.5']],
      'rebind.example.com': [['52.10.0.5'], ['127.0.0.1']],
      'internal.example.com': [['127.0.0.1']],
      'mixed.example.com': [['52.10.0.5', '10.1.2.3']],
      'evil.example.net': [['52.66.0.1']],
    },
    routes: new Map([[`52.10.0.5:${P}`, tool.port], [`52.66.0.1:${P}`, attacker.port]]),
    disable,
    ...extra,
  });
}

async function attempt(f: Awaited<ReturnType<typeof setup>>, authority: string): Promise<string> {
  const r = await connectThrough(f.port, authority);
  r.socket.destroy();
  return codeOf(r);
}

describe('T3-S baseline', () => {
  it('an allowlisted name with a public answer is tunnelled to that address', async () => {
    const f = await setup();
    try {
      expect(await attempt(f, `tools.example.com:${internal.port}`)).toBe('200:tool-ok');
      expect(f.audit.events).toEqual([]);
    } finally { await f.close(); }
  });
});

describe('T3-S DNS rebinding (resolver answers public first, loopback after)', () => {
  it('ON: the name is resolved once and the tunnel goes to the checked public address', async () => {
    const f = await setup();
    try {
      expect(await attempt(f, `rebind.example.com:${internal.port}`)).toBe('200:tool-ok');
      expect(f.resolver.calls).toEqual(['rebind.example.com']);
      expect(f.dial.dialled).toEqual([`52.10.0.5:${internal.port}`]);
      expect(internal.connections()).toBe(0);
    } finally { await f.close(); }
  });

  it('OFF (resolve-once): the dial resolves the name again and lands on the internal service', async () => {
    const f = await setup(['resolve-once']);
    try {
      expect(await attempt(f, `rebind.example.com:${internal.port}`)).toBe('200:internal-secret');
    } finally { await f.close(); }
  });
});

describe('T3-S allowlisted name resolving into a private range', () => {
  it('ON: refused as EGRESS_ADDRESS_FORBIDDEN and audited with the address class', async () => {
    const f = await setup();
    try {
      expect(await attempt(f, `internal.example.com:${internal.port}`)).toBe('EGRESS_ADDRESS_FORBIDDEN');
      expect(await attempt(f, `mixed.example.com:${internal.port}`)).toBe('EGRESS_ADDRESS_FORBIDDEN');
      expect(f.audit.events.map((e) => [e.code, e.reason, e.address])).toEqual([
        ['EGRESS_ADDRESS_FORBIDDEN', 'loopback', '127.0.0.1'],
        ['EGRESS_ADDRESS_FORBIDDEN', 'private', '10.1.2.3'],
      ]);
      expect(f.dial.dialled).toEqual([]);
    } finally { await f.close(); }
  });

  it('OFF (address-check): the tunnel reaches the internal service', async () => {
    const f = await setup(['address-check']);
    try {
      expect(await attempt(f, `internal.example.com:${internal.port}`)).toBe('200:internal-secret');
    } finally { await f.close(); }
  });
});

describe('T3-S host off the allowlist', () => {
  it('ON: refused before any DNS traffic, audited', async () => {
    const f = await setup();
    try {
      expect(await attempt(f, `evil.example.net:${internal.port}`)).toBe('EGRESS_HOST_NOT_ALLOWED');
      // Right name, wrong port; and case or a trailing dot do not change the name.
      expect(await attempt(f, `tools.example.com:${internal.port === 443 ? 444 : 443}`)).toBe('EGRESS_HOST_NOT_ALLOWED');
      expect(await attempt(f, `TOOLS.example.com.:${internal.port}`)).toBe('200:tool-ok');
      expect(f.resolver.calls).toEqual(['tools.example.com']);
      expect(f.audit.events.map((e) => [e.code, e.reason])).toEqual([
        ['EGRESS_HOST_NOT_ALLOWED', 'not-listed'], ['EGRESS_HOST_NOT_ALLOWED', 'not-listed'],
      ]);
    } finally { await f.close(); }
  });

  it('ON, no allowlist configured: everything is refused (fail closed)', async () => {
    const f = await setup([], { allowlist: undefined });
    try {
      expect(await attempt(f, `tools.example.com:${internal.port}`)).toBe('EGRESS_HOST_NOT_ALLOWED');
      expect(f.audit.events[0]?.reason).toBe('no-allowlist');
    } finally { await f.close(); }
  });

  it('OFF (allowlist): the agent reaches a host of its choosing', async () => {
    const f = await setup(['allowlist']);
    try {
      expect(await attempt(f, `evil.example.net:${internal.port}`)).toBe('200:attacker');
    } finally { await f.close(); }
  });
});

describe('T3-S bare IP literals', () => {
  const spellings = (p: number) => [`127.0.0.1:${p}`, `[::1]:${p}`, `2130706433:${p}`, `0x7f.1:${p}`, `127.1:${p}`, `[::ffff:127.0.0.1]:${p}`];

  it('ON: every spelling is refused as EGRESS_IP_LITERAL and audited', async () => {
    const f = await setup();
    try {
      for (const a of spellings(internal.port)) expect(await attempt(f, a), a).toBe('EGRESS_IP_LITERAL');
      expect(f.audit.events).toHaveLength(6);
      expect(f.dial.dialled).toEqual([]);
    } finally { await f.close(); }
  });

  it('each layer alone stops a literal: with only the literal check off, the address check refuses loopback', async () => {
    const f = await setup(['ip-literal', 'allowlist']);
    try {
      expect(await attempt(f, `127.0.0.1:${internal.port}`)).toBe('EGRESS_ADDRESS_FORBIDDEN');
    } finally { await f.close(); }
  });

  it('OFF (ip-literal, allowlist, address-check): 127.0.0.1 reaches the internal service', async () => {
    const f = await setup(['ip-literal', 'allowlist', 'address-check']);
    try {
      expect(await attempt(f, `127.0.0.1:${internal.port}`)).toBe('200:internal-secret');
    } finally { await f.close(); }
  });
});
