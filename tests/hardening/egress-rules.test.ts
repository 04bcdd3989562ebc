// T2-S / T2-I: the egress-guard renderings carry the seed's numbers, refuse values that could inject rules, and keep
// the rule order that makes the IMDS rule fire before the agent's catch-all.
import { describe, expect, it } from 'vitest';
import { isKarsError } from '../../core/errors';
import {
  EGRESS_RULE_IDS, renderIptablesRestore, renderNftRuleset, resolveEgressGuard,
} from '../../sandbox-node/egress/egress-rules';

describe('egress guard rendering', () => {
  it('nft: IMDS rule, then the agent jump; in the agent chain router accept, DNS, log, reject — in that order', () => {
    const text = renderNftRuleset({ dnsServers: ['10.0.0.10', 'fd00::a'] });
    const order = [EGRESS_RULE_IDS.imdsRejectTcp, 'meta skuid 1000 jump agent', EGRESS_RULE_IDS.agentRouter,
      EGRESS_RULE_IDS.agentDnsUdp, EGRESS_RULE_IDS.agentLog, EGRESS_RULE_IDS.agentRejectTcp, EGRESS_RULE_IDS.agentReject];
    const at = order.map((s) => text.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain('oifname "lo" ip daddr 127.0.0.1 tcp dport 8443 counter accept');
    expect(text).toContain('ip daddr 169.254.169.254 meta skuid != 1001');
    expect(text).toContain('ip6 daddr fd00::a udp dport 53');
    expect(text.startsWith('table inet kars_egress\ndelete table inet kars_egress\n')).toBe(true); // atomic replace
  });

  it('iptables: IPv4 has the router accept and IMDS rules, IPv6 rejects everything for the agent', () => {
    const v4 = renderIptablesRestore('ipv4', { agentUid: 2000, routerUid: 2001, routerPort: 9443 });
    expect(v4).toContain('-A KARS_AGENT -o lo -d 127.0.0.1/32 -p tcp --dport 9443 -m comment --comment kars:agent-router -j ACCEPT');
    expect(v4).toContain('-d 169.254.169.254/32 -m owner ! --uid-owner 2001');
    expect(v4).toContain('-A KARS_EGRESS -m owner --uid-owner 2000 -j KARS_AGENT');
    const v6 = renderIptablesRestore('ipv6');
    expect(v6).not.toContain('ACCEPT');
    expect(v6).toContain('--reject-with icmp6-port-unreachable');
    expect(v6.trim().endsWith('COMMIT')).toBe(true);
  });

  it.each([
    [{ routerHost: '10.0.0.5' }, 'routerHost'],
    [{ routerHost: '127.0.0.1 tcp dport 1 accept' }, 'routerHost'],
    [{ routerUid: 1000 }, 'routerUid'],
    [{ agentUid: 0 }, 'agentUid'],
    [{ routerPort: 70000 }, 'routerPort'],
    [{ dnsServers: ['8.8.8.8; accept'] }, 'dnsServers'],
    [{ logPrefix: 'x" accept "' }, 'logPrefix'],
  ])('refuses %j', (bad, field) => {
    let err: unknown;
    try {
      resolveEgressGuard(bad as never);
    } catch (e) {
      err = e;
    }
    expect(isKarsError(err) && err.code).toBe('EGRESS_RULES_INVALID');
    expect((err as Error).message).toContain(field);
  });

  it('defaults are the seed numbers', () => {
    expect(resolveEgressGuard()).toMatchObject({ agentUid: 1000, routerUid: 1001, routerHost: '127.0.0.1', routerPort: 8443 });
  });
});
