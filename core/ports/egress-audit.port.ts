// Where refused tool-egress attempts go (T3-S, T2-I, T2-D): every refusal is recorded with its precise code and
// reason, which the agent's 403/502/503 body does not carry. core/router/egress/egress-refusal-receipt.ts adapts
// this to the receipt sink.
import type { EgressRefusalCode } from '../router/egress/egress-types';

export interface EgressRefusalEvent {
  readonly atMs: number;
  readonly code: EgressRefusalCode;
  /** Audit detail: address class, `not-listed`, `no-allowlist`, `connect-timeout` …. */
  readonly reason: string;
  /** The authority the agent asked for, printable ASCII, capped (connect-target.ts auditableTarget). */
  readonly target: string;
  /** The refused resolved address, when the refusal is about one. */
  readonly address?: string;
  /** Sandbox the router serves, for the receipt partition. */
  readonly sandboxId: string;
}

export interface EgressAudit {
  /**
   * Records one refusal. The proxy awaits it before answering, so a refusal is never answered unrecorded unless
   * the audit itself failed (then the proxy still refuses and logs the failure).
   */
  refused(event: EgressRefusalEvent): Promise<void>;
}
