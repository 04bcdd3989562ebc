// The tool-egress decision (T3-S, T2-I) in two pure steps around one DNS lookup: is this CONNECT target allowed at
// all (allowlist, names only), and which resolved address may the tunnel use (every answer must be public; the
// tunnel then goes to that checked address, never to the name again, so a rebinding resolver gains nothing).
import { classifyIp } from './classify-address';
import { parseConnectTarget } from './connect-target';
import { isAllowlisted, type EgressAllowlist } from './egress-allowlist';
import { formatIpAddress, parseIpAddress } from './ip-address';
import { isDisabled, refuse, type EgressCheck, type EgressMitigation, type EgressTarget, type ResolvedAddress } from './egress-types';

export interface EgressPolicy {
  /** Parsed once at startup (parseEgressAllowlist); undefined means nothing is allowed. */
  readonly allowlist: EgressAllowlist | undefined;
  /** TEST ONLY: switch mitigations off to show the attack then succeeds. Never set from configuration. */
  readonly _disable?: readonly EgressMitigation[];
}

export interface AllowedTarget {
  readonly target: EgressTarget;
  /** Set only when the `ip-literal` mitigation is off and the agent named an address: nothing to resolve. */
  readonly literal?: ResolvedAddress;
}

/**
 * First step, before any DNS traffic: parse the authority, refuse addresses, then require an exact allowlist entry.
 * @returns the target, or a refusal (EGRESS_TARGET_INVALID | EGRESS_IP_LITERAL | EGRESS_HOST_NOT_ALLOWED)
 */
export function checkConnectTarget(authority: string, policy: EgressPolicy): EgressCheck<AllowedTarget> {
  const parsed = parseConnectTarget(authority);
  if (!parsed.ok) {
    if (parsed.code !== 'EGRESS_IP_LITERAL' || !isDisabled(policy._disable, 'ip-literal')) return parsed;
    return literalTarget(authority, policy);
  }
  const target = parsed.value;
  if (!isDisabled(policy._disable, 'allowlist') && !isAllowlisted(policy.allowlist, target)) {
    return refuse('EGRESS_HOST_NOT_ALLOWED', policy.allowlist === undefined || policy.allowlist.entries.size === 0 ? 'no-allowlist' : 'not-listed');
  }
  return { ok: true, value: { target } };
}

// Only reachable with the `ip-literal` mitigation off: the address goes on to the address check like a DNS answer.
function literalTarget(authority: string, policy: EgressPolicy): EgressCheck<AllowedTarget> {
  const colon = authority.lastIndexOf(':');
  const host = authority.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const ip = parseIpAddress(host);
  const port = Number(authority.slice(colon + 1));
  if (!ip || !Number.isInteger(port) || port < 1 || port > 65535) return refuse('EGRESS_TARGET_INVALID', 'literal');
  const address = formatIpAddress(ip);
  const target = { host: address, port };
  if (!isDisabled(policy._disable, 'allowlist') && !isAllowlisted(policy.allowlist, target)) {
    return refuse('EGRESS_HOST_NOT_ALLOWED', 'not-listed');
  }
  return { ok: true, value: { target, literal: { address, family: ip.family } } };
}

/**
 * Second step, on the one lookup's answers: every address must be public unicast (one private answer among public
 * ones refuses the whole name: a resolver that mixes them is hostile or misconfigured). Returns the first answer,
 * canonicalised, for the tunnel to dial.
 * @returns the address to dial, or EGRESS_RESOLVE_FAILED (no answer) | EGRESS_ADDRESS_FORBIDDEN (reason = class)
 */
export function pickCheckedAddress(answers: readonly ResolvedAddress[], policy: EgressPolicy): EgressCheck<ResolvedAddress> {
  if (answers.length === 0) return refuse('EGRESS_RESOLVE_FAILED', 'no-address');
  let first: ResolvedAddress | undefined;
  for (const a of answers) {
    const ip = parseIpAddress(a.address);
    if (!ip) return refuse('EGRESS_ADDRESS_FORBIDDEN', 'unparsable', a.address.slice(0, 64));
    const address = formatIpAddress(ip);
    const cls = classifyIp(ip);
    if (cls !== 'public' && !isDisabled(policy._disable, 'address-check')) return refuse('EGRESS_ADDRESS_FORBIDDEN', cls, address);
    first ??= { address, family: ip.family };
  }
  return { ok: true, value: first! };
}
