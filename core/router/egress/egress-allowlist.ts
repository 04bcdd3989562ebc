// The tool allowlist (T3-S): exact DNS names with an explicit port, no wildcards, no addresses. An absent or empty
// list allows nothing (fail closed).
import { KarsError } from '../../errors';
import { looksLikeIpLiteral } from './ip-address';
import type { EgressTarget } from './egress-types';

export interface EgressAllowlist {
  /** `host:port` keys, lower-case, no trailing dot. */
  readonly entries: ReadonlySet<string>;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A DNS name as the egress policy accepts it: labels of letters, digits, `-` and `_` (service names), at most 253
 * characters, not an address in disguise. Lower-cases and drops one trailing dot; undefined when invalid.
 */
export function normalizeHostName(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > 254) return undefined;
  const host = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (host.length === 0 || host.length > 253 || looksLikeIpLiteral(host)) return undefined;
  return host.split('.').every((l) => LABEL.test(l)) ? host : undefined;
}

export const allowlistKey = (t: EgressTarget): string => `${t.host}:${t.port}`;

/**
 * Parses `host:port` entries once, at startup.
 * @throws KarsError CONFIG_INVALID naming the entry's index (entries are not secret, but a message is no place for
 *   unbounded text)
 */
export function parseEgressAllowlist(entries: readonly string[]): EgressAllowlist {
  const out = new Set<string>();
  entries.forEach((entry, i) => {
    const m = /^([^:]+):([0-9]{1,5})$/.exec(entry.trim());
    const host = m ? normalizeHostName(m[1]!) : undefined;
    const port = m ? Number(m[2]) : 0;
    if (!host || port < 1 || port > 65535) {
      throw new KarsError('CONFIG_INVALID', `egress allowlist entry ${i} must be an exact host name and port (host:port)`);
    }
    out.add(allowlistKey({ host, port }));
  });
  return { entries: out };
}

/**
 * The allowlist from one configuration value, entries separated by commas or whitespace
 * (`api.github.com:443, search.example.com:443`). Unset or blank → undefined: nothing is allowed.
 * @throws KarsError CONFIG_INVALID as {@link parseEgressAllowlist}
 */
export function parseEgressAllowlistSetting(value: string | undefined): EgressAllowlist | undefined {
  const entries = (value ?? '').split(/[\s,]+/).filter((e) => e.length > 0);
  return entries.length === 0 ? undefined : parseEgressAllowlist(entries);
}

/** Exact match of name and port; false for an absent list. */
export function isAllowlisted(allowlist: EgressAllowlist | undefined, target: EgressTarget): boolean {
  return allowlist !== undefined && allowlist.entries.has(allowlistKey(target));
}
