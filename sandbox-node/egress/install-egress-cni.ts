// T2-S / T2-I node side: installs the kars-egress-guard chained CNI plugin on a node (binary, rendered nftables
// ruleset, conflist entry), so every sandbox pod's network namespace gets the guard before its containers start.
// Run by the infra/k8s/egress-guard DaemonSet; re-run periodically, it repairs a conflist rewritten by the node.
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KarsError } from '../../core/errors';
import { compileC } from '../hardening/build-jail';
import { renderNftRuleset, type EgressGuardOptions } from './egress-rules';

export const KARS_CNI_PLUGIN_TYPE = 'kars-egress-guard';

export const KARS_EGRESS_CNI_SOURCE_PATH = [join(__dirname, 'cni', 'kars-egress-cni.c'),
  join(__dirname, '..', '..', '..', 'sandbox-node', 'egress', 'cni', 'kars-egress-cni.c')].find((p) => existsSync(p)) ??
  join(__dirname, 'cni', 'kars-egress-cni.c');

export interface KarsCniPluginConf {
  type: typeof KARS_CNI_PLUGIN_TYPE;
  namespacePrefix: string;
  rulesFile: string;
  nftPath: string;
}

/**
 * Adds (or updates) the kars plugin as the LAST entry of a conflist's `plugins` chain, so it sees the main plugin's
 * result and runs after the pod's interfaces exist. Returns the same object when nothing changes.
 * @throws KarsError EGRESS_APPLY_FAILED when the document is not a conflist.
 */
export function patchConflist(conflist: unknown, plugin: KarsCniPluginConf): { changed: boolean; conflist: Record<string, unknown> } {
  if (typeof conflist !== 'object' || conflist === null || !Array.isArray((conflist as { plugins?: unknown }).plugins)) {
    throw new KarsError('EGRESS_APPLY_FAILED', 'CNI configuration has no plugins chain (.conflist expected)');
  }
  const doc = conflist as Record<string, unknown> & { plugins: Array<Record<string, unknown>> };
  const others = doc.plugins.filter((p) => p.type !== KARS_CNI_PLUGIN_TYPE);
  const current = doc.plugins.filter((p) => p.type === KARS_CNI_PLUGIN_TYPE);
  const last = doc.plugins[doc.plugins.length - 1];
  if (current.length === 1 && last?.type === KARS_CNI_PLUGIN_TYPE && JSON.stringify(last) === JSON.stringify(plugin)) {
    return { changed: false, conflist: doc };
  }
  return { changed: true, conflist: { ...doc, plugins: [...others, { ...plugin }] } };
}

export interface InstallEgressCniOptions {
  /** Node's CNI binary dir as mounted in the installer (e.g. /host/opt/cni/bin). */
  cniBinDir: string;
  /** Node's CNI config dir as mounted in the installer (e.g. /host/etc/cni/net.d). */
  cniConfDir: string;
  /** The same config dir as the runtime on the node sees it (rulesFile must be a host path). Default /etc/cni/net.d. */
  hostCniConfDir?: string;
  /** Prebuilt plugin binary (built into the installer image with buildEgressCni). */
  pluginBinaryPath: string;
  namespacePrefix?: string;
  nftPath?: string;
  guard?: Partial<EgressGuardOptions>;
}

/**
 * Copies the plugin, writes the ruleset, patches the active conflist (the lexically first *.conflist, which is the
 * one the runtime loads). Every write is write-then-rename so the runtime never reads a half-written file.
 * @throws KarsError EGRESS_APPLY_FAILED when no conflist exists; EGRESS_RULES_INVALID for bad guard options.
 */
export function installEgressCni(options: InstallEgressCniOptions): { conflistPath: string; changed: boolean } {
  const rules = renderNftRuleset(options.guard);
  const rulesName = 'kars-egress-guard.nft';
  atomicWrite(join(options.cniConfDir, rulesName), rules);
  const bin = join(options.cniBinDir, KARS_CNI_PLUGIN_TYPE);
  copyFileSync(options.pluginBinaryPath, `${bin}.tmp`);
  chmodSync(`${bin}.tmp`, 0o755);
  renameSync(`${bin}.tmp`, bin);

  const conflists = readdirSync(options.cniConfDir).filter((n) => n.endsWith('.conflist')).sort();
  const active = conflists[0];
  if (active === undefined) throw new KarsError('EGRESS_APPLY_FAILED', `no .conflist in ${options.cniConfDir}`);
  const conflistPath = join(options.cniConfDir, active);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(conflistPath, 'utf8'));
  } catch (e) {
    throw new KarsError('EGRESS_APPLY_FAILED', `${active} is not JSON`, { cause: e });
  }
  const plugin: KarsCniPluginConf = {
    type: KARS_CNI_PLUGIN_TYPE,
    namespacePrefix: options.namespacePrefix ?? 'kars-',
    rulesFile: join(options.hostCniConfDir ?? '/etc/cni/net.d', rulesName),
    nftPath: options.nftPath ?? '/usr/sbin/nft',
  };
  const { changed, conflist } = patchConflist(parsed, plugin);
  if (changed) atomicWrite(conflistPath, `${JSON.stringify(conflist, null, 2)}\n`);
  return { conflistPath, changed };
}

/** Compiles the plugin (image build / tests). @throws KarsError JAIL_BUILD_FAILED */
export function buildEgressCni(outPath: string): void {
  compileC('gcc', ['-O2', '-Wall', '-Wextra', '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-fPIE', '-pie',
    '-o', outPath, KARS_EGRESS_CNI_SOURCE_PATH]);
  chmodSync(outPath, 0o755);
}

function atomicWrite(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

// DaemonSet entrypoint: `node dist/sandbox-node/egress/install-egress-cni.js`, settings from the environment.
if (require.main === module) {
  const env = process.env;
  const once = (): void => {
    const r = installEgressCni({
      cniBinDir: env.KARS_CNI_BIN_DIR ?? '/host/opt/cni/bin',
      cniConfDir: env.KARS_CNI_CONF_DIR ?? '/host/etc/cni/net.d',
      pluginBinaryPath: env.KARS_CNI_PLUGIN_BINARY ?? '/usr/local/lib/kars/kars-egress-guard',
      namespacePrefix: env.KARS_SANDBOX_NAMESPACE_PREFIX ?? 'kars-',
      guard: { dnsServers: (env.KARS_AGENT_DNS_SERVERS ?? '').split(',').filter(Boolean) },
    });
    if (r.changed) console.log(JSON.stringify({ msg: 'kars egress guard CNI installed', conflist: r.conflistPath }));
  };
  once();
  setInterval(once, 60_000);
}
