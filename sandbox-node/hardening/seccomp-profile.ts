// T2-E: the seccomp profile kars-strict (OCI / kubelet Localhost JSON): load, check its invariants, compile it for kars-jail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKarsError, KarsError } from '../../core/errors';
// Imported (not only read from disk) so tsc copies the profile next to the compiled module in dist/.
import karsStrictJson from './kars-strict.json';

export type SeccompAction =
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_LOG';

export type SeccompOp =
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: SeccompOp;
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[];
  readonly comment?: string;
}

export interface SeccompProfile {
  readonly defaultAction: SeccompAction;
  readonly defaultErrnoRet?: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly SeccompRule[];
}

/** Path of the canonical profile; infra/k8s carries a byte-identical copy (a test enforces it). */
export const KARS_STRICT_PROFILE_PATH = join(__dirname, 'kars-strict.json');

/** kubelet `localhostProfile` (relative to /var/lib/kubelet/seccomp) where the installer DaemonSet puts it. */
export const KARS_STRICT_LOCALHOST_PROFILE = 'profiles/kars-strict.json';

/**
 * Syscalls that must be denied outright (never reachable through any ALLOW rule). kars-strict's 41, plus what
 * Docker's default still allows (ptrace, process_vm_*, name_to_handle_at, adjtimex, clock_adjtime), the new mount
 * API (a `mount`-only block is bypassed by fsopen/fsmount/move_mount) and io_uring (it performs I/O without the
 * syscalls seccomp sees), plus the profile's other explicit denials (legacy and kernel-state calls, fanotify,
 * memfd_secret): the whole deny list, so deleting a name from kars-strict.json fails the invariants and stays in the
 * T2-E run-time table (tests/hardening/syscall-table.ts).
 */
export const KARS_STRICT_REQUIRED_DENIALS: readonly string[] = Object.freeze([
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd', 'process_madvise', 'kcmp',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'userfaultfd', 'bpf', 'perf_event_open',
  'keyctl', 'add_key', 'request_key',
  'mount', 'umount2', 'pivot_root', 'chroot', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree',
  'mount_setattr', 'unshare', 'setns',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'create_module', 'query_module',
  'get_kernel_syms',
  'reboot', 'swapon', 'swapoff', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'acct', 'quotactl',
  'sethostname', 'setdomainname', 'ioperm', 'iopl', 'nfsservctl', 'personality',
  'move_pages', 'migrate_pages', 'mbind', 'set_mempolicy', 'get_mempolicy', 'lookup_dcookie',
  'open_by_handle_at', 'name_to_handle_at',
  'quotactl_fd', 'uselib', 'ustat', 'sysfs', '_sysctl', 'syslog', 'vhangup', 'set_mempolicy_home_node', 'fanotify_init',
  'memfd_secret',
]);

const ENOSYS = 38;
const EPERM = 1;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (moby's mask). */
export const CLONE_NEW_FLAGS_MASK = 0x7e020000;

const ACTIONS = new Set<string>([
  'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL', 'SCMP_ACT_LOG',
]);
const OPS: Record<SeccompOp, string> = {
  SCMP_CMP_EQ: 'eq', SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_GT: 'gt', SCMP_CMP_GE: 'ge',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};
const ARCHES: Record<string, string> = { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_AARCH64: 'aarch64' };
const NAME_RE = /^[a-z_][a-z0-9_]*$/;

/**
 * Structural parse of an OCI seccomp profile. Docker-only `includes`/`excludes` are refused: kubelet Localhost
 * profiles are passed to the runtime as they are, and a filter nobody evaluates would silently widen the allowlist.
 * @throws KarsError SECCOMP_PROFILE_INVALID naming the first bad field.
 */
export function parseSeccompProfile(input: unknown): SeccompProfile {
  const bad = (what: string): never => {
    throw new KarsError('SECCOMP_PROFILE_INVALID', `seccomp profile: ${what}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return bad('not an object');
  const p = input as Record<string, unknown>;
  if (typeof p.defaultAction !== 'string' || !ACTIONS.has(p.defaultAction)) bad('defaultAction');
  if (p.defaultErrnoRet !== undefined && !isErrno(p.defaultErrnoRet)) bad('defaultErrnoRet');
  if (!Array.isArray(p.architectures) || p.architectures.length === 0) bad('architectures');
  for (const a of p.architectures as unknown[]) if (typeof a !== 'string' || !(a in ARCHES)) bad(`architecture ${String(a)}`);
  if (!Array.isArray(p.syscalls)) bad('syscalls');
  (p.syscalls as unknown[]).forEach((r, i) => {
    if (typeof r !== 'object' || r === null) bad(`syscalls[${i}]`);
    const rule = r as Record<string, unknown>;
    if ('includes' in rule || 'excludes' in rule) bad(`syscalls[${i}]: includes/excludes are Docker-only`);
    if (!Array.isArray(rule.names) || rule.names.length === 0) bad(`syscalls[${i}].names`);
    for (const n of rule.names as unknown[]) if (typeof n !== 'string' || !NAME_RE.test(n)) bad(`syscalls[${i}] name ${String(n)}`);
    if (typeof rule.action !== 'string' || !ACTIONS.has(rule.action)) bad(`syscalls[${i}].action`);
    if (rule.errnoRet !== undefined && !isErrno(rule.errnoRet)) bad(`syscalls[${i}].errnoRet`);
    if (rule.args !== undefined) {
      if (!Array.isArray(rule.args) || rule.args.length > 6) bad(`syscalls[${i}].args`);
      for (const a of rule.args as unknown[]) {
        const arg = a as Record<string, unknown>;
        if (typeof arg !== 'object' || arg === null || !Number.isInteger(arg.index) || (arg.index as number) < 0 ||
          (arg.index as number) > 5 || !isU64(arg.value) || (arg.valueTwo !== undefined && !isU64(arg.valueTwo)) ||
          typeof arg.op !== 'string' || !(arg.op in OPS)) bad(`syscalls[${i}].args`);
      }
    }
  });
  return p as unknown as SeccompProfile;
}

/** Parses kars-strict.json (the bundled copy, or the file at `path`). @throws KarsError SECCOMP_PROFILE_INVALID */
export function loadKarsStrictProfile(path?: string): SeccompProfile {
  if (path === undefined) return parseSeccompProfile(structuredClone(karsStrictJson));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KarsError('SECCOMP_PROFILE_INVALID', `seccomp profile unreadable: ${path}`, { cause: e });
  }
  try {
    return parseSeccompProfile(JSON.parse(text));
  } catch (e) {
    if (isKarsError(e)) throw e;
    throw new KarsError('SECCOMP_PROFILE_INVALID', `seccomp profile is not JSON: ${path}`, { cause: e });
  }
}

/**
 * The kars-strict invariants (returns every violation, empty when the profile is acceptable): default deny with
 * EPERM, every required denial present in a deny rule and absent from every ALLOW rule, clone3 answered with ENOSYS,
 * clone only without CLONE_NEW* flags, Landlock syscalls allowed (or the jail cannot restrict itself).
 */
export function checkKarsStrictInvariants(profile: SeccompProfile): string[] {
  const problems: string[] = [];
  if (profile.defaultAction !== 'SCMP_ACT_ERRNO') problems.push('defaultAction must be SCMP_ACT_ERRNO');
  if ((profile.defaultErrnoRet ?? EPERM) !== EPERM) problems.push('defaultErrnoRet must be 1 (EPERM)');
  const allowedNames = new Set<string>();
  const deniedNames = new Set<string>();
  for (const r of profile.syscalls) {
    for (const n of r.names) {
      if (r.action === 'SCMP_ACT_ALLOW' || r.action === 'SCMP_ACT_LOG') allowedNames.add(n);
      else deniedNames.add(n);
    }
  }
  for (const n of KARS_STRICT_REQUIRED_DENIALS) {
    if (allowedNames.has(n)) problems.push(`${n} is reachable through an ALLOW rule`);
    if (!deniedNames.has(n)) problems.push(`${n} has no explicit deny rule`);
  }
  const clone3 = profile.syscalls.filter((r) => r.names.includes('clone3'));
  if (clone3.length !== 1 || clone3[0]?.action !== 'SCMP_ACT_ERRNO' || clone3[0]?.errnoRet !== ENOSYS || clone3[0]?.args)
    problems.push('clone3 must have exactly one rule: SCMP_ACT_ERRNO with errnoRet 38 (ENOSYS), no args');
  for (const r of profile.syscalls.filter((x) => x.names.includes('clone') && x.action === 'SCMP_ACT_ALLOW')) {
    const guard = r.args?.find((a) => a.op === 'SCMP_CMP_MASKED_EQ' && a.index === 0 &&
      (a.value & CLONE_NEW_FLAGS_MASK) === CLONE_NEW_FLAGS_MASK && (a.valueTwo ?? 0) === 0);
    if (!guard) problems.push('clone may be allowed only with (flags & 0x7E020000) == 0');
  }
  for (const n of ['landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self', 'execve']) {
    if (!allowedNames.has(n)) problems.push(`${n} must be allowed`);
  }
  return problems;
}

/** All syscall names the profile mentions, sorted and unique (input for scmp_sys_resolver checks). */
export function listSyscallNames(profile: SeccompProfile): string[] {
  return [...new Set(profile.syscalls.flatMap((r) => r.names))].sort();
}

/**
 * Compiles the profile into the line format kars-jail reads ("kars-seccomp 1"): one `<action> [errno] <syscall>
 * [<arg> <op> <value> <valueTwo>]...` line per name, so the launcher needs no JSON parser and applies exactly
 * the rules the kubelet applies.
 * @throws KarsError SECCOMP_PROFILE_INVALID for an action the launcher cannot express.
 */
export function compileJailPolicy(profile: SeccompProfile): string {
  const lines = ['kars-seccomp 1', `# compiled from kars-strict.json; do not edit`];
  lines.push(`default ${actionWord(profile.defaultAction, profile.defaultErrnoRet ?? EPERM)}`);
  for (const a of profile.architectures) lines.push(`arch ${ARCHES[a] ?? a}`);
  for (const r of profile.syscalls) {
    const act = actionWord(r.action, r.errnoRet ?? profile.defaultErrnoRet ?? EPERM);
    const args = (r.args ?? []).map((a) => `${a.index} ${OPS[a.op]} ${BigInt(a.value)} ${BigInt(a.valueTwo ?? 0)}`).join(' ');
    for (const n of r.names) lines.push(`${act} ${n}${args ? ` ${args}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function actionWord(action: SeccompAction, errno: number): string {
  switch (action) {
    case 'SCMP_ACT_ALLOW': return 'allow';
    case 'SCMP_ACT_ERRNO': return `errno ${errno}`;
    case 'SCMP_ACT_KILL_PROCESS': return 'kill_process';
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return 'kill_thread';
    case 'SCMP_ACT_LOG': return 'log';
    default: throw new KarsError('SECCOMP_PROFILE_INVALID', `seccomp action not supported by kars-jail: ${String(action)}`);
  }
}

function isErrno(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 4095;
}

function isU64(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}
