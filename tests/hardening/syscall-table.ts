// T2-E: every syscall kars-strict denies, attempted inside the jail at run time. The table comes from the profile
// (its SCMP_ACT_ERRNO rules) plus KARS_STRICT_REQUIRED_DENIALS and clone3 (so a denial deleted from the JSON stays
// in the table). A seccomp EPERM and a kernel EPERM look alike (UID 1000 without capabilities gets EPERM from most of these
// calls anyway), so the probe runs a second time under a marked copy of the policy: every ERRNO rule returns its own
// marker errno (4000 + rule index, 4000 for the default action), which no kernel path returns. Each syscall must come
// back with its rule's marker: denied by that rule, not by the default action or the kernel.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compileC, writeJailPolicy } from '../../sandbox-node/hardening/build-jail';
import { KARS_STRICT_REQUIRED_DENIALS, type SeccompProfile } from '../../sandbox-node/hardening/seccomp-profile';
import { jailArgs, type JailHarness, type JailRunOptions } from './jail-harness';

export const DEFAULT_MARK = 4000;

export interface Denial {
  readonly name: string;
  /** Index of the ERRNO rule that denies it in the profile under test (undefined: no explicit rule). */
  readonly rule: number | undefined;
  /** The errno the profile answers with. */
  readonly errno: number;
}

/** Every denied name: the profile's ERRNO rules plus the required list, with the rule and errno the profile gives each. */
export function denialTable(profile: SeccompProfile): Denial[] {
  const table = new Map<string, Denial>();
  profile.syscalls.forEach((r, i) => {
    if (r.action !== 'SCMP_ACT_ERRNO' || r.args) return;
    for (const name of r.names) table.set(name, { name, rule: i, errno: r.errnoRet ?? profile.defaultErrnoRet ?? 1 });
  });
  // clone3 is denied with its own errno (ENOSYS, so glibc falls back to the checked clone): anchored too.
  for (const name of [...KARS_STRICT_REQUIRED_DENIALS, 'clone3']) if (!table.has(name)) table.set(name, { name, rule: undefined, errno: profile.defaultErrnoRet ?? 1 });
  return [...table.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The profile with every ERRNO rule answering its marker, and the default action answering DEFAULT_MARK. */
export function markedProfile(profile: SeccompProfile): SeccompProfile {
  return {
    ...profile,
    defaultErrnoRet: DEFAULT_MARK,
    syscalls: profile.syscalls.map((r, i) => (r.action === 'SCMP_ACT_ERRNO' ? { ...r, errnoRet: DEFAULT_MARK + 1 + i } : r)),
  };
}

/** What the marked run must show for each denial of `expected` (the table of the shipped profile). */
export function expectedMarks(expected: readonly Denial[], shipped: SeccompProfile): Record<string, number> {
  // A required denial with no explicit rule should have one: the expected answer is the explicit-denial rule's
  // marker (the rule holding most denials), which the default marker never equals.
  const main = shipped.syscalls.reduce<{ i: number; n: number }>((best, r, i) =>
    r.action === 'SCMP_ACT_ERRNO' && !r.args && r.names.length > best.n ? { i, n: r.names.length } : best, { i: -1, n: 0 });
  return Object.fromEntries(expected.map((d) => [d.name, DEFAULT_MARK + 1 + (d.rule ?? main.i)]));
}

/** Builds the one probe binary that attempts a whole table of syscalls (gcc + static libseccomp, like kars-jail). */
export function buildSyscallProbe(dir: string): string {
  const out = join(dir, 'syscall-table-probe');
  compileC('gcc', ['-O2', '-Wall', '-o', out, join(__dirname, 'fixtures', 'syscall-table-probe.c'), '-l:libseccomp.a']);
  return out;
}

/**
 * Attempts every name under the jail with `profile` compiled to a policy file (full jail unless `options.skip`).
 * @returns name → errno (0 = succeeded) or 'unresolved'
 */
export function runSyscallTable(h: JailHarness, probe: string, profile: SeccompProfile, names: readonly string[], policyName: string,
  options: JailRunOptions = {}): Record<string, number | 'unresolved'> {
  const policy = join(h.dir, `${policyName}.policy`);
  writeJailPolicy(policy, profile);
  const args = jailArgs(h, options).map((a) => (a === h.policy ? policy : a));
  const r = spawnSync(h.jail, [...args, '--', probe, ...names], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0 || r.signal) throw new Error(`syscall table probe: status ${String(r.status)} signal ${String(r.signal)}: ${r.stderr}`);
  const out: Record<string, number | 'unresolved'> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [name, v] = line.split(' ');
    out[name!] = v === 'unresolved' ? 'unresolved' : Number(v);
  }
  return out;
}

/** Each name whose answer differs from the expected marker: `name: got X, want Y`. */
export function mismatches(results: Record<string, number | 'unresolved'>, want: Record<string, number>): string[] {
  return Object.entries(want).filter(([n, w]) => results[n] !== w).map(([n, w]) => `${n}: got ${String(results[n])}, want ${w}`);
}

/** A copy of `profile` with `name` taken out of its ERRNO rule, and (`allow`) added to the plain allowlist rule. */
export function withoutDenial(profile: SeccompProfile, name: string, allow: boolean): SeccompProfile {
  const plainAllow = profile.syscalls.findIndex((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args);
  return {
    ...profile,
    // Emptied rules stay (compiled to nothing) so every other rule keeps its index, and its marker.
    syscalls: profile.syscalls.map((r, i) => ({
      ...r,
      names: [...r.names.filter((n) => r.action !== 'SCMP_ACT_ERRNO' || n !== name), ...(allow && i === plainAllow ? [name] : [])],
    })),
  };
}
