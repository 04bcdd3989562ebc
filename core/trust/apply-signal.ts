// T4-E: one signal applied to one observer's score of one subject: decay to the signal's time, then a clamped delta.
import { clampDelta, clampScore, decayScore } from './score-math';
import type { TrustPolicy } from './trust-policy';

export const TRUST_SIGNAL_KINDS = ['success', 'failure', 'content-safety', 'explicit'] as const;
export type TrustSignalKind = (typeof TRUST_SIGNAL_KINDS)[number];

export interface ScoreState {
  readonly score: number;
  /** Time of the last signal applied (epoch ms): decay runs from here. */
  readonly atMs: number;
}

export interface TrustSignal {
  readonly kind: TrustSignalKind;
  /** Explicit updates only; the other kinds use the policy's signal deltas. */
  readonly delta?: number;
  readonly atMs: number;
}

/** The delta a signal asks for, before clamping. */
export function requestedDelta(signal: TrustSignal, policy: TrustPolicy): number {
  return signal.kind === 'explicit' ? signal.delta ?? 0 : policy.signalDeltas[signal.kind];
}

/**
 * The next state. `start` is where a subject the observer never scored begins (its effective score: endorsements or
 * the unknown score, never above the bootstrap cap). A signal older than the state decays nothing and keeps the
 * later timestamp, so out-of-order delivery cannot rewind decay.
 */
export function applySignal(prev: ScoreState | undefined, start: number, signal: TrustSignal, policy: TrustPolicy): ScoreState {
  const base = prev === undefined ? clampScore(start) : decayScore(prev.score, signal.atMs - prev.atMs, policy);
  const score = clampScore(base + clampDelta(requestedDelta(signal, policy), policy));
  return { score, atMs: Math.max(prev?.atMs ?? signal.atMs, signal.atMs) };
}
