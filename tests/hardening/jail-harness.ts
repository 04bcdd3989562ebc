// Test harness for T2-E/T2-S: builds kars-jail (with test hooks) and the probe, lays out sandbox/outside dirs
// owned by the agent UID, and runs commands with or without each jail layer.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildJail, compileC, writeJailPolicy } from '../../sandbox-node/hardening/build-jail';

export const AGENT_UID = 1000;
export const ROUTER_UID = 1001;

export interface JailHarness {
  readonly dir: string;
  readonly jail: string;
  readonly probe: string;
  readonly policy: string;
  /** Writable for the agent under the jail (stands in for /sandbox). */
  readonly sandboxDir: string;
  /** Owned by the agent UID but outside the writable set: only Landlock stops a write here. */
  readonly outsideDir: string;
  cleanup(): void;
}

/** Fails (throws) when not root: these tests need setuid, namespaces and mount, and must not silently pass. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('hardening tests must run as root (CI runs as root)');
}

export function createJailHarness(): JailHarness {
  requireRoot();
  // /var/tmp, not /tmp: the jail grants /tmp write access, so the "outside" dir must live elsewhere.
  const dir = mkdtempSync('/var/tmp/kars-jail-test-');
  chmodSync(dir, 0o755);
  const jail = join(dir, 'kars-jail');
  const probe = join(dir, 'jail-probe');
  const policy = join(dir, 'kars-strict.policy');
  buildJail(jail, { testHooks: true });
  compileC('gcc', ['-O2', '-Wall', '-o', probe, join(__dirname, 'fixtures', 'jail-probe.c')]);
  chmodSync(probe, 0o755);
  writeJailPolicy(policy);
  const sandboxDir = join(dir, 'sandbox');
  const outsideDir = join(dir, 'outside');
  for (const d of [sandboxDir, outsideDir]) {
    mkdirSync(d);
    chownSync(d, AGENT_UID, AGENT_UID);
  }
  return {
    dir, jail, probe, policy, sandboxDir, outsideDir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type Layer = 'landlock' | 'seccomp' | 'privdrop' | 'nnp';

export interface JailRunOptions {
  skip?: readonly Layer[];
  extraFlags?: readonly string[];
  /** Command prefix, e.g. ['unshare', '-m', '--propagation', 'private'] or ['ip', 'netns', 'exec', ns]. */
  prefix?: readonly string[];
  timeoutMs?: number;
}

/** Jail flags used by every test: the harness sandbox dir and /tmp writable, router port 8443 only. */
export function jailArgs(h: JailHarness, options: JailRunOptions = {}): string[] {
  const args = ['--seccomp', h.policy, '--rw', h.sandboxDir, '--rw', '/tmp', '--connect-tcp', '8443'];
  for (const s of options.skip ?? []) args.push('--unsafe-skip', s);
  return [...args, ...(options.extraFlags ?? [])];
}

export function runJailed(h: JailHarness, command: readonly string[], options: JailRunOptions = {}): SpawnSyncReturns<string> {
  const argv = [...(options.prefix ?? []), h.jail, ...jailArgs(h, options), '--', ...command];
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: options.timeoutMs ?? 10_000 });
}

/** Runs one probe under the jail (minus the skipped layers) and returns its one-line verdict. */
export function probeJailed(h: JailHarness, probe: string, arg?: string, options: JailRunOptions = {}): string {
  const r = runJailed(h, [h.probe, probe, ...(arg === undefined ? [] : [arg])], options);
  if (r.signal) return `signal=${r.signal}`;
  if (r.status !== 0) throw new Error(`probe ${probe} exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs the probe with no jail at all (as root, or as `uid` via setpriv). */
export function probeBare(h: JailHarness, probe: string, arg?: string, uid?: number, prefix: readonly string[] = []): string {
  const who = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  const argv = [...prefix, ...who, h.probe, probe, ...(arg === undefined ? [] : [arg])];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (r.signal) return `signal=${r.signal}`;
  if (r.status !== 0) throw new Error(`probe ${probe} exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout.trim();
}
