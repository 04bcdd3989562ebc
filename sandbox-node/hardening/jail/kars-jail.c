/*
 * kars-jail — T2-E jail launcher for the sandbox agent (UID 1000).
 *
 * Order (each step needs the previous one; see docs/hardening.md):
 *   1. parse flags, read the seccomp policy compiled from kars-strict.json, probe the Landlock ABI
 *   2. build the Landlock ruleset (paths opened while we may still read them)
 *   3. drop every capability (bounding, ambient, inheritable, permitted, effective) and switch to UID/GID 1000
 *   4. optionally prove the egress guard is installed (connect to a probe address must be REFUSED at once)
 *   5. PR_SET_NO_NEW_PRIVS, then landlock_restrict_self, then the seccomp filter (it must come last: it denies
 *      what steps 3-5 use), then execvp the agent. Landlock and seccomp survive execve and bind all children.
 *
 * Any failure exits 125 with "kars-jail: <CODE>: <reason>" on stderr before the agent runs (fail closed).
 * Build: gcc -O2 -Wall -Wextra -o kars-jail kars-jail.c -l:libseccomp.a   (libseccomp-dev)
 * The test build adds -DKARS_JAIL_TEST_HOOKS, which enables --unsafe-skip so tests can show that each layer alone
 * stops a probe; the production build has no way to skip a layer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* linux-libc-dev on Debian 12 carries Landlock ABI 2 headers; the values below are kernel UAPI (stable). */
#define KJ_FS_REFER (1ULL << 13)     /* ABI 2 */
#define KJ_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define KJ_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define KJ_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define KJ_NET_CONNECT_TCP (1ULL << 1)
#define KJ_RULE_NET_PORT 2
#define KJ_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define KJ_SCOPE_SIGNAL (1ULL << 1)
#define KJ_CREATE_RULESET_VERSION (1U << 0)

struct kj_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct kj_net_port_attr {
  uint64_t allowed_access;
  uint64_t port;
} __attribute__((packed));

#define MAX_PATHS 32
#define MAX_PORTS 16
#define EXIT_JAIL 125

static const char *g_rw[MAX_PATHS], *g_ro[MAX_PATHS], *g_dev[MAX_PATHS];
static int n_rw, n_ro, n_dev;
static long g_ports[MAX_PORTS];
static int n_ports, g_ports_set;
static int g_verbose;

static void die(const char *code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "kars-jail: %s: ", code);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(EXIT_JAIL);
}

static long parse_long(const char *s, long lo, long hi, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi) die("JAIL_USAGE", "bad %s: %s", what, s);
  return v;
}

/* ---------- Landlock ---------- */

static uint64_t fs_rights_for_abi(int abi) {
  uint64_t r = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
  if (abi >= 2) r |= KJ_FS_REFER;
  if (abi >= 3) r |= KJ_FS_TRUNCATE;
  if (abi >= 5) r |= KJ_FS_IOCTL_DEV;
  return r;
}

/* Rights that landlock_add_rule accepts on a non-directory. */
static uint64_t file_only(uint64_t r) {
  return r & (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
              KJ_FS_TRUNCATE | KJ_FS_IOCTL_DEV);
}

static void add_path_rule(int ruleset, const char *path, uint64_t rights, int must_exist) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (!must_exist && errno == ENOENT) return;
    die("JAIL_PATH_MISSING", "%s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) die("JAIL_PATH_MISSING", "%s: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode)) rights = file_only(rights);
  struct landlock_path_beneath_attr pb = {.allowed_access = rights, .parent_fd = fd};
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
    die("JAIL_LANDLOCK_FAILED", "add_rule %s: %s", path, strerror(errno));
  close(fd);
}

/* Returns a ruleset fd, or -1 when Landlock is unavailable and the policy allows running without it. */
static int build_landlock(int abi, int net_required) {
  uint64_t fs = fs_rights_for_abi(abi);
  struct kj_ruleset_attr attr = {.handled_access_fs = fs};
  size_t size = sizeof(uint64_t);
  if (abi >= 4) {
    attr.handled_access_net = KJ_NET_BIND_TCP | KJ_NET_CONNECT_TCP;
    size = 2 * sizeof(uint64_t);
  } else if (net_required) {
    die("JAIL_LANDLOCK_NET_UNAVAILABLE", "Landlock ABI %d has no TCP rules (needs >= 4, kernel 6.7)", abi);
  }
  if (abi >= 6) {
    attr.scoped = KJ_SCOPE_ABSTRACT_UNIX | KJ_SCOPE_SIGNAL;
    size = sizeof(attr);
  }
  int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0) die("JAIL_LANDLOCK_FAILED", "create_ruleset: %s", strerror(errno));

  const uint64_t ro = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  for (int i = 0; i < n_ro; i++) add_path_rule(rs, g_ro[i], ro, 1);
  for (int i = 0; i < n_rw; i++) add_path_rule(rs, g_rw[i], fs, 1);
  /* Character devices every program expects to write (/dev/null ...); missing ones are skipped. */
  const uint64_t dev = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | (fs & KJ_FS_IOCTL_DEV) |
                       (fs & KJ_FS_TRUNCATE);
  for (int i = 0; i < n_dev; i++) add_path_rule(rs, g_dev[i], dev, 0);

  if (abi >= 4) {
    for (int i = 0; i < n_ports; i++) {
      struct kj_net_port_attr np = {.allowed_access = KJ_NET_CONNECT_TCP, .port = (uint64_t)g_ports[i]};
      if (syscall(SYS_landlock_add_rule, rs, KJ_RULE_NET_PORT, &np, 0) != 0)
        die("JAIL_LANDLOCK_FAILED", "add_rule tcp %ld: %s", g_ports[i], strerror(errno));
    }
    /* No BIND rule at all: the agent cannot listen on any TCP port, so it cannot take 8443 before the router (T2-S). */
  }
  return rs;
}

/* ---------- privileges ---------- */

static int last_cap(void) {
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  int v = 40;
  if (f) {
    if (fscanf(f, "%d", &v) != 1) v = 40;
    fclose(f);
  }
  return v;
}

static void drop_privileges(uid_t uid, gid_t gid) {
  int was_root = geteuid() == 0;
  int lc = last_cap();
  if (was_root) {
    for (int c = 0; c <= lc; c++)
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
        die("JAIL_PRIVDROP_FAILED", "capbset drop %d: %s", c, strerror(errno));
    if (setgroups(0, NULL) != 0) die("JAIL_PRIVDROP_FAILED", "setgroups: %s", strerror(errno));
  } else if (getuid() != uid || geteuid() != uid) {
    die("JAIL_PRIVDROP_FAILED", "running as uid %d, cannot switch to %d without root", (int)geteuid(), (int)uid);
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    die("JAIL_PRIVDROP_FAILED", "ambient clear: %s", strerror(errno));
  if (setresgid(gid, gid, gid) != 0) die("JAIL_PRIVDROP_FAILED", "setresgid: %s", strerror(errno));
  if (setresuid(uid, uid, uid) != 0) die("JAIL_PRIVDROP_FAILED", "setresuid: %s", strerror(errno));
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capset, &h, d) != 0) die("JAIL_PRIVDROP_FAILED", "capset: %s", strerror(errno));

  /* Verify instead of trusting the calls above. */
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) || r != uid || e != uid || s != uid) die("JAIL_PRIVDROP_FAILED", "uid not switched");
  if (getresgid(&rg, &eg, &sg) || rg != gid || eg != gid || sg != gid) die("JAIL_PRIVDROP_FAILED", "gid not switched");
  gid_t groups[64];
  int ng = getgroups(64, groups);
  if (ng < 0) die("JAIL_PRIVDROP_FAILED", "getgroups: %s", strerror(errno));
  for (int i = 0; i < ng; i++)
    if (groups[i] != gid) die("JAIL_PRIVDROP_FAILED", "unexpected supplementary group %d", (int)groups[i]);
  memset(d, 0xff, sizeof d);
  if (syscall(SYS_capget, &h, d) != 0) die("JAIL_PRIVDROP_FAILED", "capget: %s", strerror(errno));
  for (int i = 0; i < 2; i++)
    if (d[i].effective || d[i].permitted || d[i].inheritable) die("JAIL_PRIVDROP_FAILED", "capabilities remain");
  for (int c = 0; c <= lc; c++) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) die("JAIL_PRIVDROP_FAILED", "ambient cap %d", c);
    if (was_root && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) die("JAIL_PRIVDROP_FAILED", "bounding cap %d", c);
  }
  if (uid != 0 && setuid(0) == 0) die("JAIL_PRIVDROP_FAILED", "could regain uid 0");
}

/* ---------- egress guard check ---------- */

/* The guard REJECTs the agent's packets (RST / ICMP unreachable), so a connect to any non-router address fails
 * with ECONNREFUSED within milliseconds. A timeout, a connection or another errno means the guard is absent. */
static void check_egress_guard(const char *spec, int timeout_ms) {
  char host[64];
  const char *colon = strrchr(spec, ':');
  if (!colon || (size_t)(colon - spec) >= sizeof host) die("JAIL_USAGE", "bad --egress-check %s", spec);
  memcpy(host, spec, (size_t)(colon - spec));
  host[colon - spec] = 0;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)parse_long(colon + 1, 1, 65535, "port"))};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("JAIL_USAGE", "bad --egress-check address %s", host);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("JAIL_EGRESS_GUARD_MISSING", "socket: %s", strerror(errno));
  int err = 0;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int n = poll(&p, 1, timeout_ms);
      if (n == 0) die("JAIL_EGRESS_GUARD_MISSING", "probe %s timed out: packets are not rejected", spec);
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }
  close(fd);
  if (err != ECONNREFUSED)
    die("JAIL_EGRESS_GUARD_MISSING", "probe %s: %s (expected connection refused by the guard)", spec,
        err ? strerror(err) : "connected");
}

/* ---------- seccomp ---------- */

static void load_seccomp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die("JAIL_SECCOMP_FAILED", "%s: %s", path, strerror(errno));
  char line[512];
  scmp_filter_ctx ctx = NULL;
  uint32_t def = 0;
  int lineno = 0, native_listed = 0;
  const char *native = NULL;
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: native = "x86_64"; break;
    case SCMP_ARCH_AARCH64: native = "aarch64"; break;
    default: die("JAIL_SECCOMP_FAILED", "unsupported native architecture");
  }
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *tok[24];
    int nt = 0;
    for (char *p = strtok(line, " \t\n"); p && nt < 24; p = strtok(NULL, " \t\n")) tok[nt++] = p;
    if (nt == 0 || tok[0][0] == '#') continue;
    if (lineno == 1) {
      if (nt != 2 || strcmp(tok[0], "kars-seccomp") || strcmp(tok[1], "1")) die("JAIL_SECCOMP_FAILED", "not a kars-seccomp 1 policy");
      continue;
    }
    if (!strcmp(tok[0], "arch")) {
      if (nt == 2 && !strcmp(tok[1], native)) native_listed = 1;
      continue;
    }
    int i = 1;
    uint32_t act;
    if (!strcmp(tok[0], "allow")) act = SCMP_ACT_ALLOW;
    else if (!strcmp(tok[0], "kill_process")) act = SCMP_ACT_KILL_PROCESS;
    else if (!strcmp(tok[0], "kill_thread")) act = SCMP_ACT_KILL_THREAD;
    else if (!strcmp(tok[0], "log")) act = SCMP_ACT_LOG;
    else if (!strcmp(tok[0], "errno") && nt >= 2) act = SCMP_ACT_ERRNO((uint16_t)parse_long(tok[i++], 0, 4095, "errno"));
    else if (!strcmp(tok[0], "default") && nt >= 2) {
      if (!strcmp(tok[1], "allow")) def = SCMP_ACT_ALLOW;
      else if (!strcmp(tok[1], "errno") && nt == 3) def = SCMP_ACT_ERRNO((uint16_t)parse_long(tok[2], 0, 4095, "errno"));
      else if (!strcmp(tok[1], "kill_process")) def = SCMP_ACT_KILL_PROCESS;
      else die("JAIL_SECCOMP_FAILED", "line %d: bad default", lineno);
      ctx = seccomp_init(def);
      if (!ctx) die("JAIL_SECCOMP_FAILED", "seccomp_init");
      /* Syscalls of an architecture the policy does not list (i386 int 0x80, x32) kill the process. */
      seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      continue;
    } else die("JAIL_SECCOMP_FAILED", "line %d: unknown action %s", lineno, tok[0]);
    if (!ctx) die("JAIL_SECCOMP_FAILED", "line %d: rule before default", lineno);
    if (i >= nt) die("JAIL_SECCOMP_FAILED", "line %d: missing syscall", lineno);
    const char *name = tok[i++];
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) die("JAIL_SECCOMP_FAILED", "line %d: unknown syscall %s", lineno, name);
    struct scmp_arg_cmp cmp[6];
    int nc = 0;
    while (i < nt) {
      if (nt - i < 4 || nc == 6) die("JAIL_SECCOMP_FAILED", "line %d: bad argument filter", lineno);
      unsigned idx = (unsigned)parse_long(tok[i], 0, 5, "arg index");
      const char *op = tok[i + 1];
      scmp_datum_t a = strtoull(tok[i + 2], NULL, 10), b = strtoull(tok[i + 3], NULL, 10);
      enum scmp_compare o;
      if (!strcmp(op, "eq")) o = SCMP_CMP_EQ;
      else if (!strcmp(op, "ne")) o = SCMP_CMP_NE;
      else if (!strcmp(op, "lt")) o = SCMP_CMP_LT;
      else if (!strcmp(op, "le")) o = SCMP_CMP_LE;
      else if (!strcmp(op, "gt")) o = SCMP_CMP_GT;
      else if (!strcmp(op, "ge")) o = SCMP_CMP_GE;
      else if (!strcmp(op, "masked_eq")) o = SCMP_CMP_MASKED_EQ;
      else die("JAIL_SECCOMP_FAILED", "line %d: bad op %s", lineno, op);
      cmp[nc++] = (struct scmp_arg_cmp){.arg = idx, .op = o, .datum_a = a, .datum_b = b};
      i += 4;
    }
    if (act == def) continue; /* same as the default: libseccomp rejects it, and it changes nothing */
    int rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)nc, cmp);
    if (rc < 0) die("JAIL_SECCOMP_FAILED", "line %d: rule for %s: %s", lineno, name, strerror(-rc));
  }
  fclose(f);
  if (!ctx) die("JAIL_SECCOMP_FAILED", "policy has no default action");
  if (!native_listed) die("JAIL_SECCOMP_FAILED", "policy does not list the native architecture %s", native);
  int rc = seccomp_load(ctx);
  if (rc < 0) die("JAIL_SECCOMP_FAILED", "seccomp_load: %s", strerror(-rc));
  seccomp_release(ctx);
}

/* ---------- main ---------- */

static void usage(void) {
  fprintf(stderr,
          "usage: kars-jail --seccomp POLICY [--uid N] [--gid N] [--rw PATH]... [--ro PATH]... [--dev PATH]...\n"
          "                 [--connect-tcp PORT]... [--landlock required|best-effort] [--landlock-net required|best-effort]\n"
          "                 [--egress-check IPV4:PORT] [--verbose] -- PROGRAM [ARGS...]\n");
  exit(EXIT_JAIL);
}

int main(int argc, char **argv) {
  const char *seccomp_path = NULL, *egress = NULL;
  long uid = 1000, gid = 1000;
  int ll_required = 1, net_required = 1, skip_ll = 0, skip_sc = 0, skip_priv = 0, skip_nnp = 0;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (!strcmp(a, "--verbose")) { g_verbose = 1; continue; }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--seccomp")) seccomp_path = v;
    else if (!strcmp(a, "--uid")) uid = parse_long(v, 0, 65535, "uid");
    else if (!strcmp(a, "--gid")) gid = parse_long(v, 0, 65535, "gid");
    else if (!strcmp(a, "--rw") && n_rw < MAX_PATHS) g_rw[n_rw++] = v;
    else if (!strcmp(a, "--ro") && n_ro < MAX_PATHS) g_ro[n_ro++] = v;
    else if (!strcmp(a, "--dev") && n_dev < MAX_PATHS) g_dev[n_dev++] = v;
    else if (!strcmp(a, "--connect-tcp") && n_ports < MAX_PORTS) { g_ports[n_ports++] = parse_long(v, 1, 65535, "port"); g_ports_set = 1; }
    else if (!strcmp(a, "--egress-check")) egress = v;
    else if (!strcmp(a, "--landlock") || !strcmp(a, "--landlock-net")) {
      int req = !strcmp(v, "required");
      if (!req && strcmp(v, "best-effort")) usage();
      if (!strcmp(a, "--landlock")) ll_required = req; else net_required = req;
    }
#ifdef KARS_JAIL_TEST_HOOKS
    else if (!strcmp(a, "--unsafe-skip")) {
      if (!strcmp(v, "landlock")) skip_ll = 1;
      else if (!strcmp(v, "seccomp")) skip_sc = 1;
      else if (!strcmp(v, "privdrop")) skip_priv = 1;
      else if (!strcmp(v, "nnp")) skip_nnp = 1;
      else usage();
    }
#endif
    else usage();
  }
  if (i >= argc) usage();
  if (!seccomp_path && !skip_sc) die("JAIL_USAGE", "--seccomp is required");
  if (n_rw == 0) { g_rw[n_rw++] = "/sandbox"; g_rw[n_rw++] = "/tmp"; }
  if (n_ro == 0) g_ro[n_ro++] = "/";
  if (n_dev == 0) {
    static const char *defaults[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts"};
    for (size_t k = 0; k < sizeof defaults / sizeof *defaults; k++) g_dev[n_dev++] = defaults[k];
  }
  if (!g_ports_set) g_ports[n_ports++] = 8443;

  /* 1. Landlock probe: ENOSYS = not built, EOPNOTSUPP = disabled at boot, EPERM = blocked by an outer seccomp. */
  int abi = -1, ruleset = -1;
  if (!skip_ll) {
    abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, KJ_CREATE_RULESET_VERSION);
    if (abi < 0) {
      int e = errno;
      if (ll_required) die("JAIL_LANDLOCK_UNAVAILABLE", "kernel answered %s; policy requires Landlock", strerror(e));
      fprintf(stderr, "kars-jail: warning: Landlock unavailable (%s); continuing without it (best-effort)\n", strerror(e));
    } else {
      if (abi < 4 && !net_required) fprintf(stderr, "kars-jail: warning: Landlock ABI %d has no TCP rules\n", abi);
      ruleset = build_landlock(abi, net_required);
    }
  }
  /* 2-3. Privileges. */
  if (!skip_priv) drop_privileges((uid_t)uid, (gid_t)gid);
  /* 4. Egress guard proof, before Landlock (whose TCP rules would answer first with EACCES). */
  if (egress) check_egress_guard(egress, 1500);
  /* 5. no_new_privs: no setuid/file-capability gain across execve; required by Landlock and seccomp. */
  if (!skip_nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("JAIL_NNP_FAILED", "%s", strerror(errno));
  if (ruleset >= 0) {
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) die("JAIL_LANDLOCK_FAILED", "restrict_self: %s", strerror(errno));
    close(ruleset);
  }
  if (!skip_sc) load_seccomp(seccomp_path);
  if (g_verbose)
    fprintf(stderr, "kars-jail: ready uid=%ld gid=%ld landlock_abi=%d landlock=%s seccomp=%s\n", uid, gid, abi,
            ruleset >= 0 ? "on" : "off", skip_sc ? "off" : "on");
  execvp(argv[i], &argv[i]);
  fprintf(stderr, "kars-jail: JAIL_EXEC_FAILED: %s: %s\n", argv[i], strerror(errno));
  return 127;
}
