/*
 * kars-egress-guard — chained CNI plugin (T2-S egress half, T2-I). The container runtime runs it as root on the node
 * while it sets up a pod's network, BEFORE any container of the pod starts. For pods in sandbox namespaces
 * (K8S_POD_NAMESPACE starting with "namespacePrefix", default "kars-") it enters the pod's network namespace and
 * loads the egress-guard nftables ruleset rendered by sandbox-node/egress/egress-rules.ts; then it passes the previous
 * plugin's result through. If the rules cannot be loaded, ADD fails, so the pod never runs unguarded (fail closed).
 *
 * Conflist entry (infra/k8s/egress-guard installs it):
 *   {"type": "kars-egress-guard", "namespacePrefix": "kars-",
 *    "rulesFile": "/etc/cni/net.d/kars-egress-guard.nft", "nftPath": "/usr/sbin/nft"}
 * DEL needs no work: the rules live in the pod's network namespace and disappear with it.
 * Build: gcc -O2 -Wall -Wextra -o kars-egress-guard kars-egress-cni.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CONF (1 << 20)

static const char *g_version = "1.0.0";

static void cni_error(int code, const char *msg, const char *detail) __attribute__((noreturn));
static void cni_error(int code, const char *msg, const char *detail) {
  /* CNI error result on stdout; the runtime logs it and retries the pod sandbox. No quotes/backslashes in msgs. */
  printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"kars-egress-guard: %s\",\"details\":\"%s\"}\n", g_version, code, msg,
         detail ? detail : "");
  exit(1);
}

static char *read_stdin(void) {
  char *buf = malloc(MAX_CONF + 1);
  size_t n = 0, r;
  if (!buf) cni_error(999, "out of memory", NULL);
  while ((r = fread(buf + n, 1, MAX_CONF - n, stdin)) > 0) n += r;
  if (n == MAX_CONF) cni_error(4, "network configuration too large", NULL);
  buf[n] = 0;
  return buf;
}

/* Length of the JSON value at p (object, array, string or scalar), honouring strings and escapes; 0 if malformed. */
static size_t value_span(const char *p) {
  const char *s = p;
  if (*s == '"') {
    for (s++; *s && *s != '"'; s++)
      if (*s == '\\' && s[1]) s++;
    return *s == '"' ? (size_t)(s - p + 1) : 0;
  }
  if (*s == '{' || *s == '[') {
    int depth = 0;
    for (; *s; s++) {
      if (*s == '"') {
        size_t n = value_span(s);
        if (!n) return 0;
        s += n - 1;
      } else if (*s == '{' || *s == '[') depth++;
      else if (*s == '}' || *s == ']') {
        if (--depth == 0) return (size_t)(s - p + 1);
      }
    }
    return 0;
  }
  while (*s && *s != ',' && *s != '}' && *s != ']') s++;
  return (size_t)(s - p);
}

/* Value of a top-level key of the configuration object (only top-level keys are considered). */
static const char *top_level(const char *json, const char *key, size_t *len) {
  const char *p = json;
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
  if (*p != '{') return NULL;
  p++;
  size_t klen = strlen(key);
  for (;;) {
    while (*p && strchr(" \n\t\r,", *p)) p++;
    if (*p != '"') return NULL;
    size_t n = value_span(p);
    if (!n) return NULL;
    int match = n == klen + 2 && !strncmp(p + 1, key, klen);
    p += n;
    while (*p && strchr(" \n\t\r", *p)) p++;
    if (*p != ':') return NULL;
    p++;
    while (*p && strchr(" \n\t\r", *p)) p++;
    size_t v = value_span(p);
    if (!v) return NULL;
    if (match) {
      *len = v;
      return p;
    }
    p += v;
  }
}

/* A plain string value (no escapes), or the default. */
static char *string_value(const char *json, const char *key, const char *fallback) {
  size_t len;
  const char *v = top_level(json, key, &len);
  if (!v) return strdup(fallback);
  if (len < 2 || v[0] != '"' || memchr(v, '\\', len)) cni_error(7, "invalid string in network configuration", key);
  return strndup(v + 1, len - 2);
}

static char *pod_namespace(void) {
  const char *args = getenv("CNI_ARGS");
  if (!args) return NULL;
  const char *k = "K8S_POD_NAMESPACE=";
  for (const char *p = args; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
    if (!strncmp(p, k, strlen(k))) {
      const char *v = p + strlen(k);
      return strndup(v, strcspn(v, ";"));
    }
  }
  return NULL;
}

/* Runs nft inside the pod's network namespace; returns its exit status. */
static int nft_in_netns(const char *netns, const char *nft, char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) cni_error(999, "fork failed", strerror(errno));
  if (pid == 0) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(126);
    dup2(2, 1); /* the plugin's stdout carries the CNI result only */
    execv(nft, argv);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0) cni_error(999, "waitpid failed", strerror(errno));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(void) {
  const char *cmd = getenv("CNI_COMMAND");
  if (!cmd) cni_error(4, "CNI_COMMAND not set", NULL);
  if (!strcmp(cmd, "VERSION")) {
    puts("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}");
    return 0;
  }
  char *conf = read_stdin();
  char *ver = string_value(conf, "cniVersion", "1.0.0");
  g_version = ver;
  if (strcmp(cmd, "ADD") && strcmp(cmd, "CHECK")) return 0; /* DEL, GC, STATUS: nothing to undo or report */

  char *prefix = string_value(conf, "namespacePrefix", "kars-");
  char *rules = string_value(conf, "rulesFile", "/etc/cni/net.d/kars-egress-guard.nft");
  char *nft = string_value(conf, "nftPath", "/usr/sbin/nft");
  char *ns = pod_namespace();
  const char *netns = getenv("CNI_NETNS");
  if (ns && *prefix && !strncmp(ns, prefix, strlen(prefix))) {
    if (!netns || !*netns) cni_error(4, "CNI_NETNS not set", NULL);
    if (!strcmp(cmd, "ADD")) {
      char *argv[] = {"nft", "-f", rules, NULL};
      int rc = nft_in_netns(netns, nft, argv);
      if (rc != 0) cni_error(999, "loading the egress guard failed; the pod must not start unguarded", rules);
    } else {
      char *argv[] = {"nft", "list", "table", "inet", "kars_egress", NULL};
      if (nft_in_netns(netns, nft, argv) != 0) cni_error(999, "egress guard missing from the pod network namespace", NULL);
    }
  }
  if (!strcmp(cmd, "ADD")) {
    size_t len;
    const char *prev = top_level(conf, "prevResult", &len);
    if (prev && *prev == '{') printf("%.*s\n", (int)len, prev);
    else printf("{\"cniVersion\":\"%s\",\"interfaces\":[],\"ips\":[]}\n", ver);
  }
  return 0;
}
