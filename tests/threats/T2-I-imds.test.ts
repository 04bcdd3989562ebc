// T2-I (agent reads cluster metadata): a fake instance-metadata service on 169.254.169.254 answers in a peer
// Defends: imds-block, network-policy-imds-except
// namespace. Without the guard UID 1000 reads it; with the guard UID 1000 (and any UID but the router's) is refused
// at once by the IMDS rule, UID 1001 still reaches it. At cluster level the sandbox NetworkPolicy excepts
// 169.254.169.254/32 from all egress (checked against the manifest below).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applyEgressRules, readEgressCounters, type EgressBackend } from '../../sandbox-node/egress/apply-egress-rules';
import { EGRESS_RULE_IDS as ID } from '../../sandbox-node/egress/egress-rules';
import { probeFrom } from '../hardening/egress-probe';
import { AGENT_UID, ROUTER_UID, requireRoot } from '../hardening/jail-harness';
import { createNetnsPair, responderScript, startNodeIn, type NetnsPair } from '../hardening/netns';

describe.each<EgressBackend>(['nft', 'iptables'])('T2-I IMDS is unreachable for the agent (%s)', (backend) => {
  let net: NetnsPair;
  let imds: ChildProcess | undefined;

  beforeAll(async () => {
    requireRoot();
    net = createNetnsPair(backend === 'nft' ? 't2in' : 't2ii');
    imds = await startNodeIn(net.peer, 0, responderScript([{ host: net.imdsAddr, port: 80, tag: 'imds-token' }]));
  });
  afterAll(() => {
    imds?.kill('SIGKILL');
    net?.cleanup();
  });

  const target = () => ({ host: net.imdsAddr, port: 80 });

  it('without the guard, UID 1000 reads the metadata service', () => {
    expect(probeFrom(net.pod, AGENT_UID, [target()])[0]!.outcome).toBe('ok:imds-token');
  });

  it('with the guard, UID 1000 and root are refused at once by the IMDS rule; UID 1001 gets through', async () => {
    await applyEgressRules({ netns: net.pod, backend });
    const c0 = await readEgressCounters({ netns: net.pod, backend });
    const [agent] = probeFrom(net.pod, AGENT_UID, [target()]);
    expect(agent!.outcome).toBe('ECONNREFUSED');
    expect(agent!.ms).toBeLessThan(1000);
    const [root] = probeFrom(net.pod, 0, [target()]);
    expect(root!.outcome).toBe('ECONNREFUSED');
    const c1 = await readEgressCounters({ netns: net.pod, backend });
    expect((c1.get(ID.imdsRejectTcp)?.packets ?? 0) - (c0.get(ID.imdsRejectTcp)?.packets ?? 0)).toBe(2);
    expect(c1.get(ID.agentRejectTcp)?.packets ?? 0).toBe(c0.get(ID.agentRejectTcp)?.packets ?? 0); // IMDS rule fired first

    const [router] = probeFrom(net.pod, ROUTER_UID, [target()]);
    expect(router!.outcome).toBe('ok:imds-token');
    const c2 = await readEgressCounters({ netns: net.pod, backend });
    expect(c2.get(ID.imdsRejectTcp)?.packets).toBe(c1.get(ID.imdsRejectTcp)?.packets);
  });
});

describe('T2-I cluster layer: the sandbox NetworkPolicy never allows 169.254.169.254', () => {
  it('every egress ipBlock that could cover IMDS excepts 169.254.169.254/32', () => {
    const text = readFileSync(join(__dirname, '../../infra/k8s/sandbox/network-policy.yaml'), 'utf8');
    const policies = parseAllDocuments(text).map((d) => d.toJS() as {
      kind: string; spec: { policyTypes: string[]; egress?: Array<{ to?: Array<{ ipBlock?: { cidr: string; except?: string[] } }> }> };
    });
    const egressPolicies = policies.filter((p) => p.kind === 'NetworkPolicy' && p.spec.policyTypes.includes('Egress'));
    expect(egressPolicies.length).toBeGreaterThan(0);
    const blocks = egressPolicies.flatMap((p) => (p.spec.egress ?? []).flatMap((e) => e.to ?? []).map((t) => t.ipBlock).filter((b) => b));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) {
      if (covers(b!.cidr, '169.254.169.254')) expect(b!.except ?? []).toContain('169.254.169.254/32');
    }
    // An egress rule without "to" allows every destination: there must be none.
    for (const p of egressPolicies) for (const e of p.spec.egress ?? []) expect(e.to?.length ?? 0).toBeGreaterThan(0);
  });
});

function covers(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  if (!base || base.includes(':')) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(base) & mask) === (toInt(ip) & mask);
}
