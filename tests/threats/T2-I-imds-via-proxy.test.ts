// T2-I "Agent reads cluster metadata (IMDS)", router half: the agent asks the router's CONNECT proxy for the metadata
// Defends: instance metadata (169.254.169.254, fd00:ec2::254), metadata host names and Azure's WireServer (168.63.129.16) reached through the router's egress proxy, by literal, by name, or by an allowlisted name that resolves there.
// service instead of dialling it (which the netfilter guard refuses, tests/threats/T2-I-imds.test.ts). A fake
// metadata service on loopback stands at 169.254.169.254:80 (the test dialer routes it); three independent layers
// refuse it: the literal check, the allowlist, and the address check. Each is shown sufficient alone, and with all
// three off the token is read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressMitigation } from '../../core/router/egress/egress-types';
import { codeOf, connectThrough, startTaggedServer } from '../support/egress-net';
import { startEgressFixture } from '../support/egress-fixture';

let imds: Awaited<ReturnType<typeof startTaggedServer>>;
let wire: Awaited<ReturnType<typeof startTaggedServer>>;
beforeAll(async () => { [imds, wire] = await Promise.all([startTaggedServer('imds-token'), startTaggedServer('wireserver')]); });
afterAll(async () => { await Promise.all([imds.close(), wire.close()]); });

const ALL: EgressMitigation[] = ['ip-literal', 'allowlist', 'address-check'];

function setup(disable: EgressMitigation[]) {
  return startEgressFixture({
    // A hijacked or careless allowlist entry: its name resolves to the metadata service.
    allowlist: ['metadata.tools.example.com:80', 'wire.tools.example.com:80', 'v6meta.tools.example.com:80'],
    names: {
      'metadata.google.internal': [['169.254.169.254']],
      'instance-data.ec2.internal': [['169.254.169.254']],
      'metadata.tools.example.com': [['169.254.169.254']],
      'wire.tools.example.com': [['168.63.129.16']],
      'v6meta.tools.example.com': [['fd00:ec2::254']],
    },
    routes: new Map([['169.254.169.254:80', imds.port], ['168.63.129.16:80', wire.port], ['fd00:ec2::254:80', imds.port]]),
    disable,
  });
}

async function attempt(f: Awaited<ReturnType<typeof setup>>, authority: string): Promise<string> {
  const r = await connectThrough(f.port, authority);
  r.socket.destroy();
  return codeOf(r);
}

describe('T2-I metadata via the router proxy', () => {
  it('ON: literal, metadata names and allowlisted names resolving to IMDS/WireServer are all refused and audited', async () => {
    const f = await setup([]);
    try {
      expect(await attempt(f, '169.254.169.254:80')).toBe('EGRESS_IP_LITERAL');
      expect(await attempt(f, '[fd00:ec2::254]:80')).toBe('EGRESS_IP_LITERAL');
      expect(await attempt(f, 'metadata.google.internal:80')).toBe('EGRESS_HOST_NOT_ALLOWED');
      expect(await attempt(f, 'instance-data.ec2.internal:80')).toBe('EGRESS_HOST_NOT_ALLOWED');
      expect(await attempt(f, 'metadata.tools.example.com:80')).toBe('EGRESS_ADDRESS_FORBIDDEN');
      expect(await attempt(f, 'wire.tools.example.com:80')).toBe('EGRESS_ADDRESS_FORBIDDEN');
      expect(await attempt(f, 'v6meta.tools.example.com:80')).toBe('EGRESS_ADDRESS_FORBIDDEN');
      expect(f.audit.events.map((e) => e.reason)).toEqual(['ip-literal', 'ipv6-literal', 'not-listed', 'not-listed', 'link-local', 'platform', 'unique-local']);
      expect(f.dial.dialled).toEqual([]);
      expect(imds.connections()).toBe(0);
    } finally { await f.close(); }
  });

  it('layers alone: the allowlist or the address check stops both; the literal check stops the literal only', async () => {
    const expected: Record<EgressMitigation, [string, string]> = {
      'ip-literal': ['EGRESS_IP_LITERAL', '200:imds-token'],
      allowlist: ['EGRESS_HOST_NOT_ALLOWED', 'EGRESS_HOST_NOT_ALLOWED'],
      'address-check': ['EGRESS_ADDRESS_FORBIDDEN', 'EGRESS_ADDRESS_FORBIDDEN'],
    } as Record<EgressMitigation, [string, string]>;
    for (const keep of ALL) {
      const f = await setup(ALL.filter((m) => m !== keep));
      try {
        expect([await attempt(f, '169.254.169.254:80'), await attempt(f, 'metadata.google.internal:80')], keep).toEqual(expected[keep]);
      } finally { await f.close(); }
    }
  });

  it('OFF (all three): the agent reads the metadata token and the WireServer', async () => {
    const f = await setup(ALL);
    try {
      expect(await attempt(f, '169.254.169.254:80')).toBe('200:imds-token');
      expect(await attempt(f, 'metadata.google.internal:80')).toBe('200:imds-token');
      expect(await attempt(f, 'wire.tools.example.com:80')).toBe('200:wireserver');
    } finally { await f.close(); }
  });
});
