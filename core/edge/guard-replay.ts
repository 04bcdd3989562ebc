// Edge step "replay" (T1-S): a verified delivery is claimed in the shared replay store; a second sighting while the claim lives is
// 409. The claim outlives the timestamp window, so a capture is refused by one check or the other.
import type { EdgeContext, EdgeRejection } from './edge-types';

/**
 * When the claim may be forgotten. Timestamped channels: once the signed timestamp is out of tolerance (and at least
 * one tolerance from now, so provider retries of one event id still collide). Untimed channels: a fixed retention.
 */
export function replayExpiresAtMs(ctx: EdgeContext, timestampSec: number | undefined): number {
  const toleranceMs = ctx.options.toleranceSec * 1000;
  if (timestampSec === undefined) return ctx.nowMs + ctx.options.untimedReplayRetentionSecByChannel[ctx.channel!] * 1000;
  return Math.max(timestampSec * 1000 + toleranceMs, ctx.nowMs + toleranceMs) + 1000;
}

export async function guardReplay(ctx: EdgeContext): Promise<EdgeRejection | undefined> {
  if (ctx.options.disabled.has('replay')) return undefined;
  const { verified, hookId } = ctx;
  if (verified === undefined || hookId === undefined) throw new TypeError('guardReplay needs a verified delivery');
  // Keys are per hook: two hooks may legitimately see the same provider delivery id.
  const key = `${hookId}:${verified.replayKey}`;
  const claim = await ctx.deps.replayGuard.claim(key, replayExpiresAtMs(ctx, verified.timestampSec), ctx.nowMs, {
    abortSignal: ctx.request.abortSignal,
  });
  if (claim.status === 'replayed') return { code: 'WEBHOOK_REPLAY', message: 'delivery already received' };
  ctx.replayClaim = claim;
  return undefined;
}
