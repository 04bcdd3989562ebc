// T2-S (egress-guard half): in a pod-like network namespace, UID 1000 reaches only the router on 127.0.0.1:8443
// Defends: egress-guard, landlock-connect, egress-cni
// (plus the configured resolver); a peer host, other loopback ports and anything else are refused at once, while
// UID 1001 (router) still reaches the peer. Run with the guard absent first to show every probe then succeeds;
// packet counters name the rule that fired. Both renderings (nftables, iptables) are exercised.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyEgressRules, readEgressCounters, removeEgressRules, type EgressBackend, type RuleCounter,
} from '../../sandbox-node/egress/apply-egress-rules';
import { EGRESS_RULE_IDS as ID, renderNftRuleset } from '../../sandbox-node/egress/egress-rules';
import { buildEgressCni } from '../../sandbox-node/egress/install-egress-cni';
import { probeFrom, udpEchoScript } from '../hardening/egress-probe';
import { AGENT_UID, ROUTER_UID, createJailHarness, requireRoot, runJailed, type JailHarness } from '../hardening/jail-harness';
import { createNetnsPair, responderScript, startNodeIn, type NetnsPair } from '../hardening/netns';

const FAST_MS = 1000; // REJECT answers in milliseconds; a DROP would hang until the 3 s probe timeout

function delta(before: Map<string, RuleCounter>, after: Map<string, RuleCounter>, id: string): number {
  return (after.get(id)?.packets ?? 0) - (before.get(id)?.packets ?? 0);
}

describe.each<EgressBackend>(['nft', 'iptables'])('T2-S egress guard (%s)', (backend) => {
  let net: NetnsPair;
  const servers: ChildProcess[] = [];
  const target = { backend } as const;

  beforeAll(async () => {
    requireRoot();
    net = createNetnsPair(backend === 'nft' ? 't2sn' : 't2si');
    servers.push(await startNodeIn(net.pod, ROUTER_UID, responderScript([
      { host: '127.0.0.1', port: 8443, tag: 'router-ok' },
      { host: '127.0.0.1', port: 8444, tag: 'router-admin' },
    ])));
    servers.push(await startNodeIn(net.peer, 0, responderScript([{ host: net.peerAddr, port: 9000, tag: 'peer-ok' }])));
    servers.push(await startNodeIn(net.peer, 0, udpEchoScript(net.peerAddr, 53)));
    servers.push(await startNodeIn(net.peer, 0, udpEchoScript(net.peerAddr, 5353)));
  });
  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    net?.cleanup();
  });

  const router = { host: '127.0.0.1', port: 8443 };
  const admin = { host: '127.0.0.1', port: 8444 };
  const peer = () => ({ host: net.peerAddr, port: 9000 });
  const dns = () => ({ host: net.peerAddr, port: 53, proto: 'udp' as const });
  const otherUdp = () => ({ host: net.peerAddr, port: 5353, proto: 'udp' as const });

  it('without the guard, UID 1000 reaches the router, other loopback ports, the peer and any UDP port', () => {
    const [r, a, p, d, u] = probeFrom(net.pod, AGENT_UID, [router, admin, peer(), dns(), otherUdp()]);
    expect(r!.outcome).toBe('ok:router-ok');
    expect(a!.outcome).toBe('ok:router-admin');
    expect(p!.outcome).toBe('ok:peer-ok');
    expect(d!.outcome).toBe('ok:dns-ok');
    expect(u!.outcome).toBe('ok:dns-ok');
  });

  it('with the guard, UID 1000 reaches only the router (and the configured resolver); the rest is refused at once', async () => {
    await applyEgressRules({ netns: net.pod, ...target, guard: { dnsServers: [net.peerAddr] } });
    const c0 = await readEgressCounters({ netns: net.pod, ...target });

    const [r] = probeFrom(net.pod, AGENT_UID, [router]);
    expect(r!.outcome).toBe('ok:router-ok');
    const c1 = await readEgressCounters({ netns: net.pod, ...target });
    expect(delta(c0, c1, ID.agentRouter)).toBeGreaterThan(0);
    expect(delta(c0, c1, ID.agentRejectTcp)).toBe(0);

    const [p, a] = probeFrom(net.pod, AGENT_UID, [peer(), admin]);
    expect(p!.outcome).toBe('ECONNREFUSED');
    expect(p!.ms).toBeLessThan(FAST_MS);
    expect(a!.outcome).toBe('ECONNREFUSED'); // another loopback port (the router's own admin listener) is off limits
    const c2 = await readEgressCounters({ netns: net.pod, ...target });
    expect(delta(c1, c2, ID.agentRejectTcp)).toBe(2);
    expect(delta(c1, c2, ID.agentLog)).toBeGreaterThanOrEqual(1); // denied packets are logged (rate limited)
    expect(delta(c1, c2, ID.agentRouter)).toBe(0);

    const [d, u] = probeFrom(net.pod, AGENT_UID, [dns(), otherUdp()]);
    expect(d!.outcome).toBe('ok:dns-ok');
    expect(u!.outcome).not.toBe('ok:dns-ok');
    const c3 = await readEgressCounters({ netns: net.pod, ...target });
    expect(delta(c2, c3, ID.agentDnsUdp)).toBe(1);
    expect(delta(c2, c3, ID.agentReject)).toBeGreaterThanOrEqual(1);
  });

  it('UID 1001 (router) still reaches the peer through the same guard, and no agent rule counts it', async () => {
    const c0 = await readEgressCounters({ netns: net.pod, ...target });
    const [p] = probeFrom(net.pod, ROUTER_UID, [peer()]);
    expect(p!.outcome).toBe('ok:peer-ok');
    const c1 = await readEgressCounters({ netns: net.pod, ...target });
    for (const id of Object.values(ID)) expect(delta(c0, c1, id)).toBe(0);
  });

  it('applying again replaces the rules instead of stacking a second copy', async () => {
    await applyEgressRules({ netns: net.pod, ...target, guard: { dnsServers: [net.peerAddr] } });
    const after = await readEgressCounters({ netns: net.pod, ...target });
    expect(after.get(ID.agentRouter)?.packets).toBe(0); // fresh rules, one copy (a stacked copy would keep old counts)
    const [p] = probeFrom(net.pod, AGENT_UID, [peer()]);
    expect(p!.outcome).toBe('ECONNREFUSED');
    const again = await readEgressCounters({ netns: net.pod, ...target });
    expect(again.get(ID.agentRejectTcp)?.packets).toBe(1);
  });

  it('removing the guard restores open egress (the control, not the namespace, was blocking)', async () => {
    await removeEgressRules({ netns: net.pod, ...target });
    expect((await readEgressCounters({ netns: net.pod, ...target })).size).toBe(0);
    const [p] = probeFrom(net.pod, AGENT_UID, [peer()]);
    expect(p!.outcome).toBe('ok:peer-ok');
    await applyEgressRules({ netns: net.pod, ...target });
  });
});

describe('T2-S kars-jail refuses to start the agent when the egress guard is missing', () => {
  let h: JailHarness;
  let net: NetnsPair;
  const servers: ChildProcess[] = [];
  // A blackhole address: without the guard the SYN goes unanswered (timeout); with it, REJECT answers at once.
  const check = ['--egress-check', '192.0.2.1:9'];

  beforeAll(async () => {
    h = createJailHarness();
    net = createNetnsPair('t2sj');
    servers.push(await startNodeIn(net.pod, ROUTER_UID, responderScript([{ host: '127.0.0.1', port: 8443, tag: 'router-ok' }])));
  });
  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    net?.cleanup();
    h?.cleanup();
  });

  const agent = `require('http').get('http://127.0.0.1:8443/',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(b))}).on('error',e=>console.log(e.code))`;

  it('no guard: exit 125 JAIL_EGRESS_GUARD_MISSING and the agent never runs', () => {
    const r = runJailed(h, [process.execPath, '-e', agent], { prefix: ['ip', 'netns', 'exec', net.pod], extraFlags: check });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('JAIL_EGRESS_GUARD_MISSING');
    expect(r.stdout).not.toContain('router-ok');
  });

  it('guard installed: the jailed Node agent starts and talks to the router', async () => {
    await applyEgressRules({ netns: net.pod, backend: 'nft' });
    const r = runJailed(h, [process.execPath, '-e', agent], { prefix: ['ip', 'netns', 'exec', net.pod], extraFlags: check });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('router-ok');
  });
});

// The router's port is the agent's only way out, so the agent must not be able to take it: a jailed agent that
// listened on 127.0.0.1:8443 before the router would receive what other processes send to the router. Landlock
// handles TCP bind with no bind rule at all, and allows connect to 8443 only; no egress guard is installed in this
// namespace, so Landlock alone decides.
describe('T2-S Landlock: the jailed agent can neither listen on the router port nor connect elsewhere', () => {
  let h: JailHarness;
  let net: NetnsPair;
  beforeAll(() => {
    h = createJailHarness();
    net = createNetnsPair('t2sl');
  });
  afterAll(() => {
    net?.cleanup();
    h?.cleanup();
  });

  const agent = `const net=require('net');(async()=>{const out={};
out.bind=await new Promise(res=>{const l=net.createServer().listen(8443,'127.0.0.1');l.on('listening',()=>{l.close();res('ok')});l.on('error',e=>res(e.code))});
out.other=await new Promise(res=>{const s=net.connect(8444,'127.0.0.1');s.on('connect',()=>{s.destroy();res('connected')});s.on('error',e=>res(e.code))});
console.log(JSON.stringify(out))})();`;

  it('ON: binding 127.0.0.1:8443 and connecting to 8444 are EACCES; OFF (Landlock skipped): the bind succeeds and the connect reaches the stack', () => {
    const on = runJailed(h, [process.execPath, '-e', agent], { prefix: ['ip', 'netns', 'exec', net.pod] });
    expect(on.status, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout.trim())).toEqual({ bind: 'EACCES', other: 'EACCES' });
    const off = runJailed(h, [process.execPath, '-e', agent], { prefix: ['ip', 'netns', 'exec', net.pod], skip: ['landlock'] });
    expect(off.status, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout.trim())).toEqual({ bind: 'ok', other: 'ECONNREFUSED' });
  });
});

describe('T2-S node side: the kars-egress-guard CNI plugin guards sandbox pods before their containers start', () => {
  let dir: string;
  let plugin: string;
  let rulesFile: string;
  let net: NetnsPair;
  const servers: ChildProcess[] = [];
  const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.213.0.2/24' }] };

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync('/var/tmp/kars-cni-test-');
    plugin = join(dir, 'kars-egress-guard');
    rulesFile = join(dir, 'kars-egress-guard.nft');
    buildEgressCni(plugin);
    writeFileSync(rulesFile, renderNftRuleset());
    net = createNetnsPair('t2sc');
    servers.push(await startNodeIn(net.peer, 0, responderScript([{ host: net.peerAddr, port: 9000, tag: 'peer-ok' }])));
  });
  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    net?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cni = (command: string, podNamespace: string, conf: Record<string, unknown> = {}) => spawnSync(plugin, [], {
    encoding: 'utf8',
    input: JSON.stringify({ cniVersion: '1.0.0', name: 'azure', type: 'kars-egress-guard', rulesFile, nftPath: nftPath(), prevResult, ...conf }),
    env: { CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: `/var/run/netns/${net.pod}`, CNI_IFNAME: 'eth0',
      CNI_PATH: dir, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${podNamespace};K8S_POD_NAME=p` },
  });

  it('a pod outside the sandbox namespaces is left alone; the previous result passes through', async () => {
    const r = cni('ADD', 'default');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(prevResult);
    expect((await readEgressCounters({ netns: net.pod })).size).toBe(0);
    expect(probeFrom(net.pod, AGENT_UID, [{ host: net.peerAddr, port: 9000 }])[0]!.outcome).toBe('ok:peer-ok');
    expect(cni('CHECK', 'kars-example').status).toBe(1); // CHECK notices the missing guard
  });

  it('ADD for a sandbox pod loads the guard into the pod namespace: UID 1000 is refused, UID 1001 is not', async () => {
    const r = cni('ADD', 'kars-example');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(prevResult);
    expect(cni('CHECK', 'kars-example').status).toBe(0);
    const [agent] = probeFrom(net.pod, AGENT_UID, [{ host: net.peerAddr, port: 9000 }]);
    expect(agent!.outcome).toBe('ECONNREFUSED');
    const [router] = probeFrom(net.pod, ROUTER_UID, [{ host: net.peerAddr, port: 9000 }]);
    expect(router!.outcome).toBe('ok:peer-ok');
    expect((await readEgressCounters({ netns: net.pod })).get(ID.agentRejectTcp)?.packets).toBe(1);
  });

  it('fails closed: when the rules cannot be loaded, ADD fails with a CNI error and the pod does not start', () => {
    const broken = join(dir, 'broken.nft');
    writeFileSync(broken, 'table inet kars_egress { this is not nft }\n');
    const r = cni('ADD', 'kars-example', { rulesFile: broken });
    expect(r.status).toBe(1);
    const err = JSON.parse(r.stdout) as { code: number; msg: string };
    expect(err.code).toBe(999);
    expect(err.msg).toContain('must not start unguarded');
  });
});

function nftPath(): string {
  return ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].find((p) => existsSync(p)) ?? '/usr/sbin/nft';
}
