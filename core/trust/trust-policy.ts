// T4-E: the numbers that bound what any signal, endorsement or chain of endorsements can do to a trust score
// (ARCHITECTURE §5: 0..1000, new peer ≤ 500, every delta clamped to ±200, transitive paths capped).

export const TRUST_MIN = 0;
export const TRUST_MAX = 1000;

/**
 * Mitigations an attack test can switch off to show the attack then succeeds. Only reachable through a
 * `_disable` option that no configuration loader sets (tests/threats/T4-E-trust-escalation.test.ts).
 */
export const TRUST_MITIGATIONS = [
  'delta-clamp', // every signal's delta within ±maxDeltaPerSignal
  'bootstrap-cap', // a new peer, and any transitive score, at most bootstrapCap
  'path-length', // endorsement chains longer than maxPathLength are ignored
  'weakest-edge', // a path is worth no more than its weakest edge, attenuated per endorsement hop
  'signature', // updates must carry a valid Ed25519 signature over the domain-separated canonical bytes
  'issuer', // the signing key must be an allowed issuer of the update's tenant
  'freshness', // issuedAtSec within ±toleranceSec of the clock
  'replay', // each (tenant, issuer, nonce) is accepted once
] as const;
export type TrustMitigation = (typeof TRUST_MITIGATIONS)[number];

export interface TrustPolicy {
  /** Score of a peer the observer has never scored and no endorsement path reaches (≤ bootstrapCap). */
  readonly unknownScore: number;
  /** Ceiling of a new peer's starting score and of every transitive score. */
  readonly bootstrapCap: number;
  /** Bound of one signal's effect, either direction. */
  readonly maxDeltaPerSignal: number;
  /** Longest path (hops: the observer's own score, then endorsements) that counts. */
  readonly maxPathLength: number;
  /** Each endorsement hop keeps this share (per mille) of the path's value. */
  readonly attenuationPermille: number;
  /** Scores above decayTarget halve their excess every half-life without fresh signals; lower scores never rise. */
  readonly decayHalfLifeMs: number;
  readonly decayTarget: number;
  /** Default deltas of the non-explicit signals (explicit updates carry their own). */
  readonly signalDeltas: Readonly<Record<'success' | 'failure' | 'content-safety', number>>;
  /** TEST ONLY: mitigations switched off. Never set from configuration. */
  readonly _disable?: readonly TrustMitigation[];
}

export const DEFAULT_TRUST_POLICY: TrustPolicy = Object.freeze({
  // AGT tiers: ≥300 probationary, ≥500 standard. A stranger is probationary; endorsements lift it to standard at most.
  unknownScore: 300,
  bootstrapCap: 500,
  maxDeltaPerSignal: 200,
  maxPathLength: 3,
  attenuationPermille: 700,
  decayHalfLifeMs: 30 * 24 * 3600_000,
  decayTarget: 500,
  signalDeltas: Object.freeze({ success: 10, failure: -25, 'content-safety': -100 }),
});

/**
 * The policy with overrides, checked.
 * @throws {RangeError} naming the field when a value is outside its range (unknownScore above bootstrapCap, …)
 */
export function resolveTrustPolicy(overrides: Partial<TrustPolicy> = {}): TrustPolicy {
  const p: TrustPolicy = { ...DEFAULT_TRUST_POLICY, ...overrides };
  const intIn = (name: string, v: number, lo: number, hi: number): void => {
    if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new RangeError(`trust policy ${name} expected an integer in ${lo}..${hi}`);
  };
  intIn('bootstrapCap', p.bootstrapCap, TRUST_MIN, 500);
  intIn('unknownScore', p.unknownScore, TRUST_MIN, p.bootstrapCap);
  intIn('maxDeltaPerSignal', p.maxDeltaPerSignal, 0, 200);
  intIn('maxPathLength', p.maxPathLength, 1, 6);
  intIn('attenuationPermille', p.attenuationPermille, 0, 1000);
  intIn('decayHalfLifeMs', p.decayHalfLifeMs, 1, Number.MAX_SAFE_INTEGER);
  intIn('decayTarget', p.decayTarget, TRUST_MIN, TRUST_MAX);
  for (const [k, v] of Object.entries(p.signalDeltas)) intIn(`signalDeltas.${k}`, v, -p.maxDeltaPerSignal, p.maxDeltaPerSignal);
  return Object.freeze(p);
}

/** Whether a mitigation is on under this policy. */
export function mitigationOn(policy: Pick<TrustPolicy, '_disable'>, m: TrustMitigation): boolean {
  return !(policy._disable ?? []).includes(m);
}
