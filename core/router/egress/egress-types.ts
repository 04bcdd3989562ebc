// Shapes of the tool-egress policy (T3-S, T2-I, T2-D): the mitigation switches, the refusal codes and what a
// decision returns. The socket plumbing lives in sandbox-node/router/egress/.
import type { KarsErrorCode } from '../../errors';

/**
 * Mitigations a test can switch off to prove its attack test has teeth. Only reachable through `_disable` options,
 * which no configuration loader sets.
 */
export const EGRESS_MITIGATIONS = [
  'allowlist', 'ip-literal', 'address-check', 'resolve-once', 'breaker', 'tunnel-limit', 'idle-timeout',
] as const;
export type EgressMitigation = (typeof EGRESS_MITIGATIONS)[number];

export type EgressRefusalCode = Extract<KarsErrorCode,
  | 'EGRESS_TARGET_INVALID' | 'EGRESS_HOST_NOT_ALLOWED' | 'EGRESS_IP_LITERAL' | 'EGRESS_ADDRESS_FORBIDDEN'
  | 'EGRESS_RESOLVE_FAILED' | 'EGRESS_UPSTREAM_UNREACHABLE' | 'EGRESS_CIRCUIT_OPEN' | 'EGRESS_TUNNELS_EXHAUSTED'>;

/** A CONNECT target after parsing: lower-case name without a trailing dot, and a port. */
export interface EgressTarget {
  readonly host: string;
  readonly port: number;
}

/** One answer of the resolver port. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Why a tunnel was refused: the code the agent sees, and a reason for the audit only. */
export interface EgressRefusal {
  readonly ok: false;
  readonly code: EgressRefusalCode;
  /** Audit detail, e.g. the address class (`link-local`) or `no-allowlist`. Never shown to the agent. */
  readonly reason: string;
  /** The refused resolved address, when the refusal is about one. */
  readonly address?: string;
}

export type EgressCheck<T> = { readonly ok: true; readonly value: T } | EgressRefusal;

export const refuse = (code: EgressRefusalCode, reason: string, address?: string): EgressRefusal =>
  address === undefined ? { ok: false, code, reason } : { ok: false, code, reason, address };

export const isDisabled = (disable: readonly EgressMitigation[] | undefined, m: EgressMitigation): boolean =>
  disable?.includes(m) === true;
