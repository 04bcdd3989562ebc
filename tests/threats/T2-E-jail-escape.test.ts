// T2-E (agent escapes the UID-1000 jail): every escape primitive is run under kars-jail and again with the layer
// Defends: seccomp kars-strict (every denied syscall, by its own rule), Landlock RO, drop ALL caps (UID 1000, no_new_privs), jail fails closed
// that stops it removed, to show the probe itself works and that the layer (not luck) is what blocks it. Every
// syscall kars-strict denies is attempted at run time, table-driven from the profile, and taking any one denial out
// of the profile is shown to fail that check.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_UID, ROUTER_UID, createJailHarness, jailArgs, probeBare, probeJailed, runJailed, type JailHarness,
} from '../hardening/jail-harness';
import { createNetns, responderScript, startNodeIn } from '../hardening/netns';
import {
  DEFAULT_MARK, buildSyscallProbe, denialTable, expectedMarks, markedProfile, mismatches, runSyscallTable, withoutDenial,
} from '../hardening/syscall-table';
import { KARS_STRICT_PROFILE_PATH, loadKarsStrictProfile } from '../../sandbox-node/hardening/seccomp-profile';

let h: JailHarness;
const privateMountNs = ['unshare', '-m', '--propagation', 'private'];

beforeAll(() => {
  h = createJailHarness();
});
afterAll(() => h?.cleanup());

describe('T2-E filesystem: Landlock read-only everywhere except the sandbox dir and /tmp', () => {
  it('the kernel offers Landlock (ABI >= 4, so TCP rules exist too)', () => {
    const r = runJailed(h, ['true'], { extraFlags: ['--verbose'] });
    expect(r.status, r.stderr).toBe(0);
    const abi = Number(/landlock_abi=(\d+)/.exec(r.stderr)?.[1]);
    expect(abi).toBeGreaterThanOrEqual(4);
  });

  it('writing outside the writable set fails with EACCES; with Landlock removed the same write succeeds', () => {
    const target = join(h.outsideDir, 'escape.txt');
    expect(probeJailed(h, 'write', target)).toBe('errno=EACCES');
    expect(existsSync(target)).toBe(false);
    expect(probeJailed(h, 'mkdir', join(h.outsideDir, 'd'))).toBe('errno=EACCES');
    // Control removed: same UID, same seccomp, same dir (owned by UID 1000) — only Landlock differs.
    expect(probeJailed(h, 'write', target, { skip: ['landlock'] })).toBe('ok');
    expect(readFileSync(target, 'utf8')).toBe('x');
    rmSync(target);
  });

  it('the sandbox dir and /tmp stay writable, and everything stays readable', () => {
    expect(probeJailed(h, 'write', join(h.sandboxDir, 'work.txt'))).toBe('ok');
    const tmpFile = `/tmp/kars-jail-probe-${process.pid}`;
    try {
      expect(probeJailed(h, 'write', tmpFile)).toBe('ok');
    } finally {
      rmSync(tmpFile, { force: true });
    }
    expect(probeJailed(h, 'read', '/etc/hostname')).toBe('ok');
  });
});

describe('T2-E syscalls: kars-strict seccomp (EPERM), capabilities dropped, UID 1000', () => {
  it('mount fails with EPERM under the jail and under each layer alone; with no layer it succeeds', () => {
    const target = join(h.outsideDir);
    const opts = { prefix: privateMountNs };
    expect(probeJailed(h, 'mount', target, opts)).toBe('errno=EPERM');
    expect(probeJailed(h, 'mount', target, { ...opts, skip: ['privdrop', 'landlock'] })).toBe('errno=EPERM'); // seccomp alone
    expect(probeJailed(h, 'mount', target, { ...opts, skip: ['seccomp', 'landlock'] })).toBe('errno=EPERM'); // caps/UID alone
    expect(probeJailed(h, 'mount', target, { ...opts, skip: ['seccomp', 'privdrop'] })).toBe('errno=EPERM'); // Landlock alone
    expect(probeJailed(h, 'mount', target, { ...opts, skip: ['seccomp', 'privdrop', 'landlock'] })).toBe('ok');
    expect(probeJailed(h, 'fsopen', undefined, opts)).toBe('errno=EPERM'); // new mount API
    expect(probeJailed(h, 'fsopen', undefined, { ...opts, skip: ['seccomp', 'privdrop', 'landlock'] })).toBe('ok');
  });

  it('unshare and clone(CLONE_NEWUSER) fail with EPERM; without seccomp UID 1000 can create a user namespace', () => {
    expect(probeJailed(h, 'unshare-user')).toBe('errno=EPERM');
    expect(probeJailed(h, 'unshare-user', undefined, { skip: ['seccomp'] })).toBe('ok');
    expect(probeJailed(h, 'clone-newuser')).toBe('errno=EPERM');
    expect(probeJailed(h, 'clone-newuser', undefined, { skip: ['seccomp'] })).toBe('ok');
    expect(probeJailed(h, 'setns')).toBe('errno=EPERM');
    expect(probeJailed(h, 'setns', undefined, { skip: ['seccomp', 'privdrop'] })).toBe('ok');
  });

  it('ptrace and process_vm_readv fail with EPERM; without seccomp UID 1000 can trace its own child', () => {
    expect(probeJailed(h, 'ptrace')).toBe('errno=EPERM');
    expect(probeJailed(h, 'ptrace', undefined, { skip: ['seccomp'] })).toBe('ok');
    expect(probeJailed(h, 'process_vm_readv')).toBe('errno=EPERM');
    expect(probeJailed(h, 'process_vm_readv', undefined, { skip: ['seccomp'] })).toBe('ok');
  });

  it('bpf fails with EPERM even with root capabilities kept; without seccomp root creates a map', () => {
    expect(probeJailed(h, 'bpf')).toBe('errno=EPERM');
    expect(probeJailed(h, 'bpf', undefined, { skip: ['privdrop'] })).toBe('errno=EPERM');
    expect(probeJailed(h, 'bpf', undefined, { skip: ['seccomp', 'privdrop'] })).toBe('ok');
  });

  it.each([
    ['io_uring', 'io_uring_setup'],
    ['userfaultfd', 'userfaultfd'],
    ['keyctl', 'keyctl'],
    ['perf', 'perf_event_open'],
  ])('%s (%s) fails with EPERM; without seccomp UID 1000 succeeds', (probe) => {
    expect(probeJailed(h, probe)).toBe('errno=EPERM');
    expect(probeJailed(h, probe, undefined, { skip: ['seccomp'] })).toBe('ok');
  });

  it('AF_PACKET sockets are refused by the socket-family filter even with capabilities kept', () => {
    expect(probeJailed(h, 'af_packet', undefined, { skip: ['privdrop'] })).toBe('errno=EPERM');
    expect(probeJailed(h, 'af_packet', undefined, { skip: ['seccomp', 'privdrop'] })).toBe('ok');
  });

  it('clone3 answers ENOSYS so glibc falls back to clone, and fork still works', () => {
    expect(probeJailed(h, 'clone3')).toBe('errno=ENOSYS');
    expect(probeJailed(h, 'clone3', undefined, { skip: ['seccomp'] })).toBe('ok');
    expect(probeJailed(h, 'fork')).toBe('ok');
  });

  it('the 32-bit syscall entry (int 0x80) kills the process with SIGSYS; without seccomp it runs', () => {
    expect(probeJailed(h, 'int80')).toBe('signal=SIGSYS');
    expect(probeJailed(h, 'int80', undefined, { skip: ['seccomp'] })).toBe('ok');
  });

  it('runs as UID/GID 1000 with no capability in any set, no_new_privs and a seccomp filter; root cannot be regained', () => {
    const status = probeJailed(h, 'status');
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(status).toMatch(/^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      expect(status).toMatch(new RegExp(`^${set}:\\s+0000000000000000$`, 'm'));
    }
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    expect(probeJailed(h, 'setuid0')).toBe('errno=EPERM');
    // Without the jail the same probe shows root with a full effective set.
    const bare = probeBare(h, 'status');
    expect(bare).toMatch(/^Uid:\s+0\s/m);
    expect(bare).not.toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(probeBare(h, 'setuid0')).toBe('ok');
  });
});

describe('T2-E every syscall kars-strict denies, attempted inside the jail (table from the profile)', () => {
  // The JSON file itself, as kubelet and the jail installer read it.
  const shipped = loadKarsStrictProfile(KARS_STRICT_PROFILE_PATH);
  const table = denialTable(shipped);
  const names = table.map((d) => d.name);
  let probe: string;
  beforeAll(() => {
    probe = buildSyscallProbe(h.dir);
  });

  it('the table holds every ERRNO rule name of the profile, and each resolves to a syscall number here', () => {
    const ruleNames = shipped.syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO').flatMap((r) => r.names);
    expect(new Set(names)).toEqual(new Set(ruleNames));
    expect(names.length).toBeGreaterThanOrEqual(70);
    const r = runSyscallTable(h, probe, shipped, names, 'shipped');
    expect(Object.entries(r).filter(([, v]) => v === 'unresolved')).toEqual([]);
  });

  it('each one fails with the errno the profile sets for it (EPERM; clone3 ENOSYS)', () => {
    const r = runSyscallTable(h, probe, shipped, names, 'shipped');
    expect(r).toEqual(Object.fromEntries(table.map((d) => [d.name, d.errno])));
    expect(r.clone3).toBe(38);
  });

  it('each one is refused by its own deny rule, not by the default action nor by the kernel (marked policy)', () => {
    const r = runSyscallTable(h, probe, markedProfile(shipped), names, 'marked');
    expect(mismatches(r, expectedMarks(table, shipped))).toEqual([]);
  });

  it('without seccomp the same calls reach the kernel: no marker comes back and some succeed (personality)', () => {
    const r = runSyscallTable(h, probe, markedProfile(shipped), names, 'marked-off', { skip: ['seccomp'] });
    expect(Object.entries(r).filter(([, v]) => typeof v === 'number' && v >= DEFAULT_MARK)).toEqual([]);
    expect(r.personality).toBe(0);
  });

  it('taking any one denial out of kars-strict fails the check, whether it is dropped from its rule or allowed', () => {
    const caught: Record<string, string[]> = {};
    for (const d of table) {
      for (const allow of [false, true]) {
        const mutated = withoutDenial(shipped, d.name, allow);
        // The check as it would run on an edited kars-strict.json: table and expectations from the edited profile.
        const r = runSyscallTable(h, probe, markedProfile(mutated), names, 'mutated');
        caught[`${d.name} ${allow ? 'allowed' : 'dropped'}`] = mismatches(r, expectedMarks(denialTable(mutated), mutated)).map((m) => m.split(':')[0]!);
      }
    }
    const want = Object.fromEntries(table.flatMap((d) => [[`${d.name} dropped`, [d.name]], [`${d.name} allowed`, [d.name]]]));
    expect(caught).toEqual(want);
  }, 120_000);
});

describe('T2-E fail closed', () => {
  // An outer filter makes landlock_create_ruleset answer like a kernel without Landlock (ENOSYS) or with Landlock
  // disabled at boot (EOPNOTSUPP); the real launcher then runs under it.
  const outerPolicy = (errno: number): string => {
    const p = join(h.dir, `no-landlock-${errno}.policy`);
    writeFileSync(p, `kars-seccomp 1\ndefault allow\narch x86_64\narch aarch64\nerrno ${errno} landlock_create_ruleset\n`);
    return p;
  };
  const underOuter = (errno: number, inner: readonly string[]) =>
    spawnSync(h.jail, ['--seccomp', outerPolicy(errno), '--unsafe-skip', 'landlock', '--unsafe-skip', 'privdrop', '--',
      h.jail, ...inner, '--', h.probe, 'status'], { encoding: 'utf8' });

  it.each([[38, 'ENOSYS'], [95, 'EOPNOTSUPP']])('refuses to start the agent when Landlock is required but the kernel answers %s', (errno) => {
    const r = underOuter(errno, jailArgs(h));
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('JAIL_LANDLOCK_UNAVAILABLE');
    expect(r.stdout).not.toContain('Uid:'); // the agent never ran
  });

  it('best-effort mode starts the agent with a warning instead (and that is an explicit policy choice)', () => {
    const r = underOuter(38, [...jailArgs(h), '--landlock', 'best-effort']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Landlock unavailable');
    expect(r.stdout).toMatch(/^Uid:\s+1000/m);
  });

  it('refuses to start without a seccomp policy, with a missing writable path, or with a broken policy', () => {
    const noSeccomp = spawnSync(h.jail, ['--rw', h.sandboxDir, '--', 'true'], { encoding: 'utf8' });
    expect(noSeccomp.status).toBe(125);
    expect(noSeccomp.stderr).toContain('JAIL_USAGE');
    const missing = runJailed(h, ['true'], { extraFlags: ['--rw', join(h.dir, 'does-not-exist')] });
    expect(missing.status).toBe(125);
    expect(missing.stderr).toContain('JAIL_PATH_MISSING');
    const broken = join(h.dir, 'broken.policy');
    writeFileSync(broken, 'kars-seccomp 1\ndefault errno 1\narch x86_64\nallow no_such_syscall\n');
    const bad = runJailed(h, ['true'], { extraFlags: ['--seccomp', broken] });
    expect(bad.status).toBe(125);
    expect(bad.stderr).toContain('JAIL_SECCOMP_FAILED');
  });
});

describe('T2-E a Node agent still starts under the jail and talks to the router on 127.0.0.1:8443', () => {
  let ns: { name: string; cleanup(): void } | undefined;
  let router: ChildProcess | undefined;

  beforeAll(async () => {
    ns = createNetns('t2e');
    router = await startNodeIn(ns.name, ROUTER_UID, responderScript([{ host: '127.0.0.1', port: 8443, tag: 'router-ok' }]));
  });
  afterAll(() => {
    router?.kill('SIGKILL');
    ns?.cleanup();
  });

  // Router call, a connect to another loopback port, then an attempt to listen on the router's port (T2-S).
  const agent = `const http=require('http'),net=require('net'),fs=require('fs'),os=require('os'),cp=require('child_process');
os.networkInterfaces(); cp.execFileSync('/bin/true'); fs.writeFileSync(process.argv[1]+'/agent.txt','x');
(async()=>{const out={uid:process.getuid()};
out.router=await new Promise(res=>http.get('http://127.0.0.1:8443/',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>res(b))}).on('error',e=>res(e.code)));
out.other=await new Promise(res=>{const s=net.connect(8444,'127.0.0.1');s.on('connect',()=>{s.destroy();res('connected')});s.on('error',e=>res(e.code))});
out.bind=await new Promise(res=>{const l=net.createServer().listen(8443,'127.0.0.1');l.on('listening',()=>{l.close();res('ok')});l.on('error',e=>res(e.code))});
console.log(JSON.stringify(out))})();`;

  it('the agent (UID 1000, fully jailed) gets the router answer and nothing else over TCP', () => {
    const r = runJailed(h, [process.execPath, '-e', agent, h.sandboxDir], { prefix: ['ip', 'netns', 'exec', ns!.name] });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(out).toEqual({ uid: AGENT_UID, router: 'router-ok', other: 'EACCES', bind: 'EACCES' });
  });

  it('without Landlock the same agent reaches other ports and can bind the router port (what Landlock removes)', () => {
    router!.kill('SIGKILL'); // free 8443 so the bind attempt is decided by the jail alone
    const r = runJailed(h, [process.execPath, '-e', agent, h.sandboxDir], {
      prefix: ['ip', 'netns', 'exec', ns!.name], skip: ['landlock'],
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(out.router).toBe('ECONNREFUSED');
    expect(out.other).toBe('ECONNREFUSED'); // reached the TCP stack: refused by the kernel, not by Landlock
    expect(out.bind).toBe('ok');
  });
});
