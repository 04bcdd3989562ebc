// T4-E: the clamps every score change passes through, and deterministic decay from timestamps (integer arithmetic
// only, so every instance and every replay of the same history computes the same score).
import { mitigationOn, TRUST_MAX, TRUST_MIN, type TrustPolicy } from './trust-policy';

/** An integer score within 0..1000 (NaN and fractions are bugs upstream: they round toward the safe side, 0). */
export function clampScore(score: number): number {
  if (!Number.isFinite(score)) return TRUST_MIN;
  return Math.min(TRUST_MAX, Math.max(TRUST_MIN, Math.trunc(score)));
}

/** The delta a signal may apply: within ±maxDeltaPerSignal unless the 'delta-clamp' mitigation is off (tests). */
export function clampDelta(delta: number, policy: TrustPolicy): number {
  const d = Number.isFinite(delta) ? Math.trunc(delta) : 0;
  if (!mitigationOn(policy, 'delta-clamp')) return d;
  return Math.min(policy.maxDeltaPerSignal, Math.max(-policy.maxDeltaPerSignal, d));
}

/**
 * The score after `elapsedMs` without signals: the excess above decayTarget halves every half-life (whole halvings
 * by shift, the remainder of a half-life linearly), scores at or below the target stay where they are (distrust is
 * not forgotten by waiting). A negative elapsed time (clock skew, out-of-order timestamps) decays nothing.
 */
export function decayScore(score: number, elapsedMs: number, policy: TrustPolicy): number {
  const s = clampScore(score);
  if (!(elapsedMs > 0) || s <= policy.decayTarget) return s;
  let excess = s - policy.decayTarget;
  const halvings = Math.floor(elapsedMs / policy.decayHalfLifeMs);
  if (halvings >= 11) return policy.decayTarget; // 1000 >> 10 is 0 already
  excess = Math.floor(excess / 2 ** halvings);
  const rest = elapsedMs - halvings * policy.decayHalfLifeMs;
  // Within one half-life the excess falls linearly from e to e/2: e − ⌊e·rest / (2·halfLife)⌋.
  excess -= Math.floor((excess * rest) / (2 * policy.decayHalfLifeMs));
  return policy.decayTarget + excess;
}
