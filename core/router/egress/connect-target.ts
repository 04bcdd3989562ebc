// The CONNECT request target (RFC 9110 §9.3.6, authority-form `host:port`) as the agent sent it, parsed strictly
// (T3-S): no userinfo, no default port, names only.
import { looksLikeIpLiteral } from './ip-address';
import { normalizeHostName } from './egress-allowlist';
import { refuse, type EgressCheck, type EgressTarget } from './egress-types';

/** Longest authority accepted: a 253-character name, a dot, a colon and five digits. */
export const MAX_AUTHORITY_CHARS = 261;

/**
 * @returns the target, or EGRESS_IP_LITERAL for an address in any spelling (`[::1]:443`, `127.0.0.1:443`,
 *   `2130706433:80`), or EGRESS_TARGET_INVALID for anything else that is not `name:port`
 */
export function parseConnectTarget(authority: string): EgressCheck<EgressTarget> {
  if (authority.length === 0 || authority.length > MAX_AUTHORITY_CHARS) return refuse('EGRESS_TARGET_INVALID', 'length');
  if (authority.startsWith('[')) return refuse('EGRESS_IP_LITERAL', 'ipv6-literal');
  const colon = authority.lastIndexOf(':');
  if (colon <= 0) return refuse('EGRESS_TARGET_INVALID', 'no-port');
  const rawHost = authority.slice(0, colon);
  const rawPort = authority.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(rawPort) || Number(rawPort) < 1 || Number(rawPort) > 65535) return refuse('EGRESS_TARGET_INVALID', 'port');
  if (rawHost.includes('@')) return refuse('EGRESS_TARGET_INVALID', 'userinfo');
  if (!/^[A-Za-z0-9._:-]+$/.test(rawHost)) return refuse('EGRESS_TARGET_INVALID', 'host');
  if (looksLikeIpLiteral(rawHost)) return refuse('EGRESS_IP_LITERAL', 'ip-literal');
  const host = normalizeHostName(rawHost);
  if (!host) return refuse('EGRESS_TARGET_INVALID', 'host');
  return { ok: true, value: { host, port: Number(rawPort) } };
}

/** The raw target as the audit may keep it: printable ASCII only, capped. */
export function auditableTarget(authority: string): string {
  return authority.slice(0, MAX_AUTHORITY_CHARS).replace(/[^\x21-\x7e]/g, '?');
}
