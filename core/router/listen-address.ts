// T2-S (listener half): the router is the agent's only door and must not be a door for anything else. It binds a
// loopback address; a non-loopback bind (0.0.0.0, a pod IP) would let other pods and nodes talk to the holder of the
// sandbox's credential, so it needs an explicit dev flag and is reported as a warning.
import { fail, ok, type Result } from '../errors';

export const DEFAULT_ROUTER_LISTEN = '127.0.0.1:8443';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** True when the host is not a loopback address (only possible with the dev flag or the mitigation off). */
  readonly exposed: boolean;
}

export interface ResolveListenOptions {
  /** The explicit dev flag (`KARS_ROUTER_ALLOW_NON_LOOPBACK=true`). */
  readonly allowNonLoopback?: boolean;
  /** TEST ONLY (`_disable: ['loopback-only']`). */
  readonly loopbackCheck?: boolean;
}

/** `127.0.0.0/8` or `::1`; host names are refused outright (a name can resolve to anything at bind time). */
export function isLoopbackHost(host: string): boolean {
  if (host === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9a-fA-F:]+$/;

/**
 * Parses `host:port` (`[v6]:port` for IPv6) and applies the loopback rule.
 * @returns the address, or `CONFIG_INVALID` (malformed) / `ROUTER_LISTEN_NOT_LOOPBACK` (refused bind)
 */
export function resolveListenAddress(value: string, options: ResolveListenOptions = {}): Result<ListenAddress> {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return fail('CONFIG_INVALID', 'KARS_ROUTER_LISTEN must be host:port');
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535) return fail('CONFIG_INVALID', 'KARS_ROUTER_LISTEN port out of range');
  const v4 = IPV4.exec(host);
  const literal = (v4 !== null && v4.slice(1).every((o) => Number(o) <= 255)) || (m[1] !== undefined && IPV6.test(host));
  if (!literal) return fail('CONFIG_INVALID', 'KARS_ROUTER_LISTEN host must be an IP address literal');
  const loopback = isLoopbackHost(host);
  if (!loopback && options.loopbackCheck !== false && options.allowNonLoopback !== true) {
    return fail('ROUTER_LISTEN_NOT_LOOPBACK', 'the router listens on loopback only; a non-loopback address needs KARS_ROUTER_ALLOW_NON_LOOPBACK=true (dev only)');
  }
  return ok({ host, port, exposed: !loopback });
}
