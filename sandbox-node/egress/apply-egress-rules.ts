// T2-S / T2-I: installs, removes and reads the egress guard inside a network namespace with nft or iptables-restore.
// Used by the node-side installer (pod netns by path), the local dev stack and the netns attack tests (by name).
import { spawn } from 'node:child_process';
import { KarsError } from '../../core/errors';
import {
  IPTABLES_AGENT_CHAIN, IPTABLES_CHAIN, NFT_TABLE, renderIptablesRestore, renderNftRuleset, type EgressGuardOptions,
} from './egress-rules';

export type EgressBackend = 'nft' | 'iptables';

export interface EgressTargetOptions {
  /** `ip netns` name. */
  netns?: string;
  /** Namespace file such as /proc/<pid>/ns/net (entered with nsenter); wins over `netns`. */
  netnsPath?: string;
  /** Default `nft`. */
  backend?: EgressBackend;
  timeoutMs?: number;
}

export interface ApplyEgressRulesOptions extends EgressTargetOptions {
  guard?: Partial<EgressGuardOptions>;
}

export interface RuleCounter {
  packets: number;
  bytes: number;
}

/**
 * Installs (or atomically replaces) the guard. Idempotent: applying twice leaves one copy.
 * @throws KarsError EGRESS_RULES_INVALID for bad options, EGRESS_APPLY_FAILED when the tool refuses.
 */
export async function applyEgressRules(options: ApplyEgressRulesOptions = {}): Promise<void> {
  if ((options.backend ?? 'nft') === 'nft') {
    await run(options, ['nft', '-f', '-'], renderNftRuleset(options.guard));
    return;
  }
  await run(options, ['iptables-restore', '--noflush'], renderIptablesRestore('ipv4', options.guard));
  await run(options, ['ip6tables-restore', '--noflush'], renderIptablesRestore('ipv6', options.guard));
  for (const tool of ['iptables', 'ip6tables']) {
    const present = await run(options, [tool, '-C', 'OUTPUT', '-j', IPTABLES_CHAIN], undefined, true);
    if (!present.ok) await run(options, [tool, '-I', 'OUTPUT', '1', '-j', IPTABLES_CHAIN]);
  }
}

/** Removes the guard (both backends' objects that exist). @throws KarsError EGRESS_APPLY_FAILED */
export async function removeEgressRules(options: EgressTargetOptions = {}): Promise<void> {
  if ((options.backend ?? 'nft') === 'nft') {
    await run(options, ['nft', '-f', '-'], `table inet ${NFT_TABLE}\ndelete table inet ${NFT_TABLE}\n`);
    return;
  }
  for (const tool of ['iptables', 'ip6tables']) {
    while ((await run(options, [tool, '-D', 'OUTPUT', '-j', IPTABLES_CHAIN], undefined, true)).ok) { /* all copies */ }
    for (const chain of [IPTABLES_CHAIN, IPTABLES_AGENT_CHAIN]) {
      await run(options, [tool, '-F', chain], undefined, true);
      await run(options, [tool, '-X', chain], undefined, true);
    }
  }
}

/**
 * Packet/byte counters keyed by rule id (the `kars:*` comment), summed over IPv4 and IPv6. Empty when the guard is
 * not installed. @throws KarsError EGRESS_APPLY_FAILED when the tool cannot be run.
 */
export async function readEgressCounters(options: EgressTargetOptions = {}): Promise<Map<string, RuleCounter>> {
  const out = new Map<string, RuleCounter>();
  const add = (id: string, packets: number, bytes: number): void => {
    const c = out.get(id) ?? { packets: 0, bytes: 0 };
    out.set(id, { packets: c.packets + packets, bytes: c.bytes + bytes });
  };
  if ((options.backend ?? 'nft') === 'nft') {
    const r = await run(options, ['nft', '-j', 'list', 'table', 'inet', NFT_TABLE], undefined, true);
    if (!r.ok) return out;
    const doc = JSON.parse(r.stdout) as { nftables: Array<{ rule?: { comment?: string; expr?: Array<Record<string, unknown>> } }> };
    for (const item of doc.nftables) {
      const rule = item.rule;
      if (!rule?.comment?.startsWith('kars:')) continue;
      const counter = rule.expr?.find((e) => 'counter' in e)?.counter as RuleCounter | undefined;
      if (counter) add(rule.comment, counter.packets, counter.bytes);
    }
    return out;
  }
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const r = await run(options, [tool, '-c', '-t', 'filter'], undefined, true);
    if (!r.ok) continue;
    for (const line of r.stdout.split('\n')) {
      const m = /^\[(\d+):(\d+)\] -A .*--comment "?(kars:[a-z0-9-]+)"?/.exec(line);
      if (m) add(m[3]!, Number(m[1]), Number(m[2]));
    }
  }
  return out;
}

interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function prefix(options: EgressTargetOptions): string[] {
  if (options.netnsPath !== undefined) return ['nsenter', `--net=${options.netnsPath}`, '--'];
  if (options.netns !== undefined) return ['ip', 'netns', 'exec', options.netns];
  return [];
}

function run(options: EgressTargetOptions, cmd: readonly string[], input?: string, tolerateFailure = false): Promise<RunResult> {
  const argv = [...prefix(options), ...cmd];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 15_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new KarsError('EGRESS_APPLY_FAILED', `${cmd[0]!} could not run: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      const ok = code === 0;
      if (!ok && !tolerateFailure) {
        reject(new KarsError('EGRESS_APPLY_FAILED', `${cmd.join(' ')} failed: ${stderr.trim().split('\n').slice(0, 4).join(' | ')}`));
        return;
      }
      resolve({ ok, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => { /* the tool exited early; its exit code and stderr tell why */ });
      child.stdin.end(input);
    }
  });
}
