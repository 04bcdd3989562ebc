// T2-E: kars-strict is well formed, keeps its invariants, and every syscall name resolves with libseccomp.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isKarsError } from '../../core/errors';
import {
  KARS_STRICT_REQUIRED_DENIALS, checkKarsStrictInvariants, compileJailPolicy, listSyscallNames, loadKarsStrictProfile,
  parseSeccompProfile, type SeccompProfile, type SeccompRule,
} from '../../sandbox-node/hardening/seccomp-profile';

const profile = loadKarsStrictProfile();

/** scmp_sys_resolver (Debian `seccomp`): >= 0 is a real number on that arch, <= -10000 a libseccomp pseudo name, -1 unknown. */
function resolve(arch: string, names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of names) {
    const r = spawnSync('scmp_sys_resolver', ['-a', arch, n], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`scmp_sys_resolver failed for ${n}: ${r.error?.message ?? r.stderr}`);
    out.set(n, Number(r.stdout.trim()));
  }
  return out;
}

const withRules = (rules: readonly SeccompRule[]): SeccompProfile => ({ ...profile, syscalls: rules });

describe('kars-strict seccomp profile', () => {
  it('holds every invariant: default EPERM, required denials never allowed, clone3 ENOSYS, clone without CLONE_NEW*', () => {
    expect(checkKarsStrictInvariants(profile)).toEqual([]);
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64']);
  });

  it('denies what the brief names and what Docker still allows', () => {
    for (const n of ['ptrace', 'process_vm_readv', 'process_vm_writev', 'io_uring_setup', 'io_uring_enter',
      'io_uring_register', 'userfaultfd', 'bpf', 'perf_event_open', 'keyctl', 'add_key', 'request_key', 'mount',
      'fsopen', 'fsmount', 'move_mount', 'open_tree', 'mount_setattr', 'fsconfig', 'fspick', 'unshare', 'setns',
      'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module']) {
      expect(KARS_STRICT_REQUIRED_DENIALS).toContain(n);
    }
  });

  it('every name resolves with libseccomp: allowlist names are real syscalls on a listed arch, denials are known names', () => {
    const names = listSyscallNames(profile);
    const x86 = resolve('x86_64', names);
    const arm = resolve('aarch64', names);
    const allowed = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
    const unknown = names.filter((n) => x86.get(n) === -1 && arm.get(n) === -1);
    expect(unknown).toEqual([]);
    const allowedButAbsent = [...allowed].filter((n) => (x86.get(n) ?? -1) < 0 && (arm.get(n) ?? -1) < 0);
    expect(allowedButAbsent).toEqual([]);
    expect(x86.get('clone3')).toBe(435);
  });

  it('the checker catches each way an edit could reopen a hole', () => {
    const allowRule = profile.syscalls[0]!;
    const ptraceAllowed = withRules([{ ...allowRule, names: [...allowRule.names, 'ptrace'] }, ...profile.syscalls.slice(1)]);
    expect(checkKarsStrictInvariants(ptraceAllowed)).toContain('ptrace is reachable through an ALLOW rule');

    const noClone3 = withRules(profile.syscalls.map((r) => (r.names.includes('clone3') ? { ...r, errnoRet: 1 } : r)));
    expect(checkKarsStrictInvariants(noClone3).join()).toMatch(/clone3/);

    const bareClone = withRules(profile.syscalls.map((r) => (r.names.includes('clone') ? { names: ['clone'], action: 'SCMP_ACT_ALLOW' as const } : r)));
    expect(checkKarsStrictInvariants(bareClone).join()).toMatch(/0x7E020000/);

    const noLandlock = withRules([{ ...allowRule, names: allowRule.names.filter((n) => !n.startsWith('landlock_')) }, ...profile.syscalls.slice(1)]);
    expect(checkKarsStrictInvariants(noLandlock)).toContain('landlock_restrict_self must be allowed');

    const allowDefault = { ...profile, defaultAction: 'SCMP_ACT_ALLOW' as const };
    expect(checkKarsStrictInvariants(allowDefault)).toContain('defaultAction must be SCMP_ACT_ERRNO');
  });

  it('refuses Docker-only includes/excludes and malformed rules', () => {
    const base = JSON.parse(JSON.stringify(profile)) as { syscalls: Array<Record<string, unknown>> };
    base.syscalls[0]!.includes = { caps: ['CAP_SYS_ADMIN'] };
    const err = (() => { try { parseSeccompProfile(base); } catch (e) { return e; } return undefined; })();
    expect(isKarsError(err) && err.code).toBe('SECCOMP_PROFILE_INVALID');
    expect(() => parseSeccompProfile({ ...profile, architectures: ['SCMP_ARCH_X86'] })).toThrow(/architecture/);
    expect(() => parseSeccompProfile({ ...profile, syscalls: [{ names: ['read;rm'], action: 'SCMP_ACT_ALLOW' }] })).toThrow(/name/);
  });

  it('compiles to the launcher format: one line per name, same actions and argument filters as the JSON', () => {
    const text = compileJailPolicy(profile);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('kars-seccomp 1');
    expect(lines).toContain('default errno 1');
    expect(lines).toContain('errno 38 clone3');
    expect(lines).toContain('errno 1 ptrace');
    expect(lines).toContain(`allow clone 0 masked_eq ${0x7e020000} 0`);
    expect(lines).toContain('allow socket 0 eq 1 0');
    const ruleLines = lines.filter((l) => /^(allow|errno|kill|log)/.test(l));
    expect(ruleLines.length).toBe(profile.syscalls.reduce((n, r) => n + r.names.length, 0));
  });
});
