// Test helper: the Pod Security Standards "restricted" profile (which includes "baseline"), field by field, as
// listed on kubernetes.io/docs/concepts/security/pod-security-standards — what PSA would enforce at admission.

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const SECCOMP_OK = new Set(['RuntimeDefault', 'Localhost']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

export function allContainers(spec: Obj): Array<{ where: string; c: Obj }> {
  const out: Array<{ where: string; c: Obj }> = [];
  for (const kind of ['initContainers', 'containers', 'ephemeralContainers']) {
    (spec[kind] ?? []).forEach((c: Obj, i: number) => out.push({ where: `${kind}[${i}](${String(c.name)})`, c }));
  }
  return out;
}

/** Every restricted-profile violation in a pod spec; empty means PSA "restricted" admits it. */
export function restrictedViolations(spec: Obj): string[] {
  const v: string[] = [];
  const psc: Obj = spec.securityContext ?? {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[f] === true) v.push(`pod: ${f}`);
  for (const vol of spec.volumes ?? []) {
    const types = Object.keys(vol).filter((k) => k !== 'name');
    for (const t of types) if (!ALLOWED_VOLUMES.has(t)) v.push(`volume ${String(vol.name)}: type ${t}`);
  }
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) v.push(`pod: unsafe sysctl ${String(s.name)}`);
  if (psc.runAsUser === 0) v.push('pod: runAsUser 0');
  if (psc.seccompProfile && !SECCOMP_OK.has(psc.seccompProfile.type)) v.push(`pod: seccomp ${String(psc.seccompProfile.type)}`);
  if (psc.seLinuxOptions && !SELINUX_TYPES.has(psc.seLinuxOptions.type ?? '')) v.push('pod: seLinuxOptions.type');
  if (psc.seLinuxOptions?.user || psc.seLinuxOptions?.role) v.push('pod: seLinuxOptions user/role');
  if (psc.appArmorProfile && !['RuntimeDefault', 'Localhost'].includes(psc.appArmorProfile.type)) v.push('pod: appArmorProfile');

  for (const { where, c } of allContainers(spec)) {
    const sc: Obj = c.securityContext ?? {};
    if (sc.privileged === true) v.push(`${where}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${where}: allowPrivilegeEscalation must be false`);
    const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (runAsNonRoot !== true) v.push(`${where}: runAsNonRoot must be true (pod or container)`);
    if (sc.runAsUser === 0) v.push(`${where}: runAsUser 0`);
    const seccomp = sc.seccompProfile ?? psc.seccompProfile;
    if (!seccomp || !SECCOMP_OK.has(seccomp.type)) v.push(`${where}: seccompProfile must be RuntimeDefault or Localhost`);
    if (seccomp?.type === 'Localhost' && !seccomp.localhostProfile) v.push(`${where}: Localhost seccomp without localhostProfile`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) v.push(`${where}: capabilities.drop must include ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${where}: adds capability ${String(cap)}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${where}: hostPort ${String(p.hostPort)}`);
    if (sc.procMount && sc.procMount !== 'Default') v.push(`${where}: procMount`);
    if (sc.seLinuxOptions && !SELINUX_TYPES.has(sc.seLinuxOptions.type ?? '')) v.push(`${where}: seLinuxOptions.type`);
    if (sc.windowsOptions?.hostProcess === true) v.push(`${where}: hostProcess`);
  }
  return v;
}
