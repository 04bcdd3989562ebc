// T2-S (egress half) and T2-I: renders the egress guard for a sandbox pod's network namespace as an nftables ruleset
// or iptables-restore input. UID 1000 may reach only the router on 127.0.0.1:8443 (plus configured DNS);
// 169.254.169.254 answers only the router UID; everything else from UID 1000 is rejected at once and logged.
import { isIP } from 'node:net';
import { KarsError } from '../../core/errors';

export interface EgressGuardOptions {
  /** UID the agent runs as (seed: 1000). */
  agentUid: number;
  /** UID of the router (seed: 1001); the only UID that may reach the metadata service. */
  routerUid: number;
  /** Router listener (seed: 127.0.0.1:8443); must be a loopback IPv4 address. */
  routerHost: string;
  routerPort: number;
  /** Resolvers the agent may query on port 53 (UDP and TCP); empty = no DNS for the agent. */
  dnsServers: readonly string[];
  /** Instance metadata address; Azure IMDS is 169.254.169.254. */
  imdsAddress: string;
  /** Kernel log prefix of denied agent packets, rate limited to `logRatePerSec`. */
  logPrefix: string;
  logRatePerSec: number;
}

export const DEFAULT_EGRESS_GUARD: Readonly<EgressGuardOptions> = Object.freeze({
  agentUid: 1000,
  routerUid: 1001,
  routerHost: '127.0.0.1',
  routerPort: 8443,
  dnsServers: Object.freeze([]) as readonly string[],
  imdsAddress: '169.254.169.254',
  logPrefix: 'kars-egress-deny ',
  logRatePerSec: 5,
});

/** Rule ids, carried as rule comments so packet counters name the rule that fired. */
export const EGRESS_RULE_IDS = Object.freeze({
  imdsRejectTcp: 'kars:imds-reject-tcp',
  imdsReject: 'kars:imds-reject',
  agentRouter: 'kars:agent-router',
  agentDnsUdp: 'kars:agent-dns-udp',
  agentDnsTcp: 'kars:agent-dns-tcp',
  agentLog: 'kars:agent-log',
  agentRejectTcp: 'kars:agent-reject-tcp',
  agentReject: 'kars:agent-reject',
});

export const NFT_TABLE = 'kars_egress';
export const IPTABLES_CHAIN = 'KARS_EGRESS';
export const IPTABLES_AGENT_CHAIN = 'KARS_AGENT';

/**
 * Fills defaults and validates. Everything interpolated into rule text passes a strict check here, so a config
 * value can never inject extra rules.
 * @throws KarsError EGRESS_RULES_INVALID naming the bad option.
 */
export function resolveEgressGuard(options: Partial<EgressGuardOptions> = {}): EgressGuardOptions {
  const o: EgressGuardOptions = { ...DEFAULT_EGRESS_GUARD, ...options };
  const bad = (what: string): never => {
    throw new KarsError('EGRESS_RULES_INVALID', `egress guard: invalid ${what}`);
  };
  const uid = (v: number): boolean => Number.isInteger(v) && v > 0 && v < 2 ** 31;
  if (!uid(o.agentUid)) bad('agentUid');
  if (!uid(o.routerUid) || o.routerUid === o.agentUid) bad('routerUid');
  if (isIP(o.routerHost) !== 4 || !o.routerHost.startsWith('127.')) bad('routerHost (loopback IPv4 only)');
  if (!Number.isInteger(o.routerPort) || o.routerPort < 1 || o.routerPort > 65535) bad('routerPort');
  if (!Array.isArray(o.dnsServers) || o.dnsServers.some((a) => isIP(a) === 0)) bad('dnsServers');
  if (isIP(o.imdsAddress) !== 4) bad('imdsAddress');
  if (!/^[A-Za-z0-9 _:-]{1,28}$/.test(o.logPrefix)) bad('logPrefix');
  if (!Number.isInteger(o.logRatePerSec) || o.logRatePerSec < 1 || o.logRatePerSec > 1000) bad('logRatePerSec');
  return o;
}

/**
 * One `inet` table (IPv4 and IPv6) hooked at output. Applying it replaces any previous version atomically
 * (`nft -f` runs the delete and the new table in one transaction).
 */
export function renderNftRuleset(options: Partial<EgressGuardOptions> = {}): string {
  const o = resolveEgressGuard(options);
  const id = EGRESS_RULE_IDS;
  const dns = o.dnsServers.flatMap((a) => {
    const fam = isIP(a) === 4 ? 'ip' : 'ip6';
    return [
      `    ${fam} daddr ${a} udp dport 53 counter accept comment "${id.agentDnsUdp}"`,
      `    ${fam} daddr ${a} tcp dport 53 counter accept comment "${id.agentDnsTcp}"`,
    ];
  });
  return [
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    `  chain output {`,
    `    type filter hook output priority filter; policy accept;`,
    `    ip daddr ${o.imdsAddress} meta skuid != ${o.routerUid} meta l4proto tcp counter reject with tcp reset comment "${id.imdsRejectTcp}"`,
    `    ip daddr ${o.imdsAddress} meta skuid != ${o.routerUid} counter reject with icmpx type port-unreachable comment "${id.imdsReject}"`,
    `    meta skuid ${o.agentUid} jump agent`,
    `  }`,
    `  chain agent {`,
    `    oifname "lo" ip daddr ${o.routerHost} tcp dport ${o.routerPort} counter accept comment "${id.agentRouter}"`,
    ...dns,
    `    limit rate ${o.logRatePerSec}/second burst ${o.logRatePerSec * 2} packets counter log prefix "${o.logPrefix}" flags skuid comment "${id.agentLog}"`,
    `    meta l4proto tcp counter reject with tcp reset comment "${id.agentRejectTcp}"`,
    `    counter reject with icmpx type port-unreachable comment "${id.agentReject}"`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/**
 * iptables-restore input (use with `--noflush`: the two kars chains are declared, hence flushed and refilled in one
 * transaction; other chains are untouched). The OUTPUT → KARS_EGRESS jump is added by the applier, once.
 */
export function renderIptablesRestore(family: 'ipv4' | 'ipv6', options: Partial<EgressGuardOptions> = {}): string {
  const o = resolveEgressGuard(options);
  const id = EGRESS_RULE_IDS;
  const v4 = family === 'ipv4';
  const unreachable = v4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
  const cmt = (c: string): string => `-m comment --comment ${c}`;
  const lines = ['*filter', `:${IPTABLES_CHAIN} - [0:0]`, `:${IPTABLES_AGENT_CHAIN} - [0:0]`];
  if (v4) {
    const notRouter = `-d ${o.imdsAddress}/32 -m owner ! --uid-owner ${o.routerUid}`;
    lines.push(`-A ${IPTABLES_CHAIN} ${notRouter} -p tcp ${cmt(id.imdsRejectTcp)} -j REJECT --reject-with tcp-reset`);
    lines.push(`-A ${IPTABLES_CHAIN} ${notRouter} ${cmt(id.imdsReject)} -j REJECT --reject-with ${unreachable}`);
  }
  lines.push(`-A ${IPTABLES_CHAIN} -m owner --uid-owner ${o.agentUid} -j ${IPTABLES_AGENT_CHAIN}`);
  if (v4) {
    lines.push(`-A ${IPTABLES_AGENT_CHAIN} -o lo -d ${o.routerHost}/32 -p tcp --dport ${o.routerPort} ${cmt(id.agentRouter)} -j ACCEPT`);
  }
  for (const a of o.dnsServers.filter((x) => isIP(x) === (v4 ? 4 : 6))) {
    const mask = v4 ? 32 : 128;
    lines.push(`-A ${IPTABLES_AGENT_CHAIN} -d ${a}/${mask} -p udp --dport 53 ${cmt(id.agentDnsUdp)} -j ACCEPT`);
    lines.push(`-A ${IPTABLES_AGENT_CHAIN} -d ${a}/${mask} -p tcp --dport 53 ${cmt(id.agentDnsTcp)} -j ACCEPT`);
  }
  lines.push(`-A ${IPTABLES_AGENT_CHAIN} -m limit --limit ${o.logRatePerSec}/sec --limit-burst ${o.logRatePerSec * 2} ${cmt(id.agentLog)} -j LOG --log-prefix "${o.logPrefix}" --log-uid`);
  lines.push(`-A ${IPTABLES_AGENT_CHAIN} -p tcp ${cmt(id.agentRejectTcp)} -j REJECT --reject-with tcp-reset`);
  lines.push(`-A ${IPTABLES_AGENT_CHAIN} ${cmt(id.agentReject)} -j REJECT --reject-with ${unreachable}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
