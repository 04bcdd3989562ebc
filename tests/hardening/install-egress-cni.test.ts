// T2-S node side: the installer puts the plugin, the ruleset and a conflist entry in place, idempotently, and keeps
// the kars plugin last in the chain (it must see the main plugin's result).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKarsError } from '../../core/errors';
import { renderNftRuleset } from '../../sandbox-node/egress/egress-rules';
import { KARS_CNI_PLUGIN_TYPE, installEgressCni, patchConflist } from '../../sandbox-node/egress/install-egress-cni';

let root: string;
let bin: string;
let conf: string;
let pluginSrc: string;
const azure = { cniVersion: '1.0.0', name: 'azure', plugins: [{ type: 'azure-vnet', mode: 'transparent' }, { type: 'portmap', capabilities: { portMappings: true } }] };

beforeEach(() => {
  root = mkdtempSync('/var/tmp/kars-cni-install-');
  bin = join(root, 'bin');
  conf = join(root, 'net.d');
  mkdirSync(bin);
  mkdirSync(conf);
  pluginSrc = join(root, 'plugin');
  writeFileSync(pluginSrc, '#!/bin/sh\n');
  writeFileSync(join(conf, '10-azure.conflist'), JSON.stringify(azure));
  writeFileSync(join(conf, '99-other.conflist'), JSON.stringify({ ...azure, name: 'other' }));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('installEgressCni', () => {
  it('installs binary, ruleset and a last-in-chain entry in the active (first) conflist, once', () => {
    const r = installEgressCni({ cniBinDir: bin, cniConfDir: conf, pluginBinaryPath: pluginSrc, guard: { dnsServers: ['10.0.0.10'] } });
    expect(r).toEqual({ conflistPath: join(conf, '10-azure.conflist'), changed: true });
    expect(statSync(join(bin, KARS_CNI_PLUGIN_TYPE)).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(conf, 'kars-egress-guard.nft'), 'utf8')).toBe(renderNftRuleset({ dnsServers: ['10.0.0.10'] }));
    const doc = JSON.parse(readFileSync(r.conflistPath, 'utf8')) as typeof azure;
    expect(doc.plugins.map((p) => p.type)).toEqual(['azure-vnet', 'portmap', KARS_CNI_PLUGIN_TYPE]);
    expect(doc.plugins[2]).toEqual({ type: KARS_CNI_PLUGIN_TYPE, namespacePrefix: 'kars-',
      rulesFile: '/etc/cni/net.d/kars-egress-guard.nft', nftPath: '/usr/sbin/nft' });
    expect(JSON.parse(readFileSync(join(conf, '99-other.conflist'), 'utf8'))).toEqual({ ...azure, name: 'other' });
    expect(installEgressCni({ cniBinDir: bin, cniConfDir: conf, pluginBinaryPath: pluginSrc }).changed).toBe(false);
  });

  it('repairs a conflist the node rewrote, and moves a misplaced entry to the end', () => {
    installEgressCni({ cniBinDir: bin, cniConfDir: conf, pluginBinaryPath: pluginSrc });
    writeFileSync(join(conf, '10-azure.conflist'), JSON.stringify(azure)); // node image upgrade resets it
    expect(installEgressCni({ cniBinDir: bin, cniConfDir: conf, pluginBinaryPath: pluginSrc }).changed).toBe(true);
    const entry = { type: KARS_CNI_PLUGIN_TYPE, namespacePrefix: 'kars-', rulesFile: '/etc/cni/net.d/kars-egress-guard.nft', nftPath: '/usr/sbin/nft' } as const;
    const misplaced = { ...azure, plugins: [entry, ...azure.plugins] };
    const patched = patchConflist(misplaced, entry);
    expect(patched.changed).toBe(true);
    expect((patched.conflist.plugins as Array<{ type: string }>).map((p) => p.type)).toEqual(['azure-vnet', 'portmap', KARS_CNI_PLUGIN_TYPE]);
  });

  it('refuses a directory without a conflist and a single-plugin .conf document', () => {
    rmSync(join(conf, '10-azure.conflist'));
    rmSync(join(conf, '99-other.conflist'));
    let err: unknown;
    try {
      installEgressCni({ cniBinDir: bin, cniConfDir: conf, pluginBinaryPath: pluginSrc });
    } catch (e) {
      err = e;
    }
    expect(isKarsError(err) && err.code).toBe('EGRESS_APPLY_FAILED');
    expect(() => patchConflist({ type: 'bridge' }, { type: KARS_CNI_PLUGIN_TYPE, namespacePrefix: 'k', rulesFile: 'r', nftPath: 'n' })).toThrow(/plugins chain/);
  });
});
