// T4-S / T4-I: what a receiving router checks on a frame from the relay store before its agent may see it. Ciphertext
// `message` frames pass (their integrity is the ratchet's, T4-T); KNOCK, knock_accept and knock_reject need the
// sending router's countersignature (verified under the key in the sender's registry record, for the sandbox it
// names), a countersignature time within ±300 s, no earlier delivery of the same frame, and, for a KNOCK, a sender
// trust score at or above the threshold; below it the router answers knock_reject itself.
import type { Clock } from '../../ports/clock.port';
import type { TrustScoreSource } from '../../ports/trust-score.port';
import type { KarsErrorCode } from '../../errors';
import { bridgeOn, type BridgeMitigation } from './bridge-switches';
import type { ReplayWindow } from './replay-window';
import { COUNTERSIGNED_TYPES, countersignedAtMs, readCountersignature, verifyCountersignature, withoutCountersignature } from './router-countersignature';
import type { RouterKeyDirectory } from './registry-router-keys';

export const DEFAULT_TRUST_THRESHOLD = 500;
export const COUNTERSIGNATURE_TOLERANCE_SEC = 300;

export type InboundVerdict =
  | { readonly kind: 'deliver'; readonly frame: Record<string, unknown> }
  /** Dropped and acknowledged at the relay store (it must not come back); audited with `code`. */
  | { readonly kind: 'drop'; readonly code: KarsErrorCode; readonly reason: string }
  /** A KNOCK the router answers with knock_reject itself (trust below the threshold). */
  | { readonly kind: 'reject'; readonly code: KarsErrorCode; readonly reason: string };

export interface InboundGateDeps {
  peerKeys: RouterKeyDirectory;
  trust: TrustScoreSource;
  /** Countersigned frames already delivered (key `from|id`). */
  consumed: ReplayWindow;
  clock: Clock;
}

export interface InboundGateOptions {
  trustThreshold: number;
  toleranceSec?: number;
  _disable?: readonly BridgeMitigation[];
}

export const frameKey = (frame: Record<string, unknown>): string => `${String(frame.from)}|${String(frame.id)}`;

export async function gateInbound(frame: Record<string, unknown>, boundDid: string, deps: InboundGateDeps, options: InboundGateOptions): Promise<InboundVerdict> {
  const on = (m: BridgeMitigation): boolean => bridgeOn(options._disable, m);
  const tolMs = (options.toleranceSec ?? COUNTERSIGNATURE_TOLERANCE_SEC) * 1000;
  const { type, from, id } = frame;
  if (frame.v !== 1 || typeof type !== 'string' || typeof from !== 'string' || typeof id !== 'string') return { kind: 'drop', code: 'MESH_FRAME_INVALID', reason: 'shape' };
  if (frame.to !== boundDid) return { kind: 'drop', code: 'MESH_DID_MISMATCH', reason: 'recipient' };
  if (on('plaintext-refusal') && frame.plaintext === true) return { kind: 'drop', code: 'MESH_PLAINTEXT_REFUSED', reason: 'plaintext' };
  if (!COUNTERSIGNED_TYPES.has(type)) return { kind: 'deliver', frame };

  const nowMs = deps.clock.nowMs();
  if (on('countersignature-replay') && deps.consumed.has(frameKey(frame), nowMs)) return { kind: 'drop', code: 'MESH_KNOCK_REPLAYED', reason: 'replay' };
  const c = readCountersignature(frame);
  if (on('countersignature')) {
    if (!c) return { kind: 'drop', code: 'MESH_COUNTERSIGNATURE_INVALID', reason: 'absent' };
    const peer = await deps.peerKeys.keyOf(from);
    if (!peer) return { kind: 'drop', code: 'MESH_COUNTERSIGNATURE_INVALID', reason: 'no-router-key' };
    if (peer.sandbox !== c.sandbox) return { kind: 'drop', code: 'MESH_COUNTERSIGNATURE_INVALID', reason: 'sandbox' };
    if (!verifyCountersignature(frame, c, peer.publicKey)) return { kind: 'drop', code: 'MESH_COUNTERSIGNATURE_INVALID', reason: 'signature' };
  }
  if (on('countersignature-freshness') && c && Math.abs(nowMs - countersignedAtMs(c)) > tolMs) return { kind: 'drop', code: 'MESH_KNOCK_STALE', reason: 'stale' };

  if (type === 'knock' && on('trust-gate') && options.trustThreshold > 0) {
    let score: number | undefined;
    try {
      score = await deps.trust.scoreOf(from);
    } catch {
      score = undefined;
    }
    if (score === undefined) return { kind: 'reject', code: 'MESH_TRUST_INSUFFICIENT', reason: 'no-score' };
    if (!(score >= options.trustThreshold)) return { kind: 'reject', code: 'MESH_TRUST_INSUFFICIENT', reason: 'below-threshold' };
  }
  return { kind: 'deliver', frame: withoutCountersignature(frame) };
}
