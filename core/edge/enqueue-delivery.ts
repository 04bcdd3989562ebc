// After every edge step passed and the receipt is written (T1-E): the accepted event goes to the target sandbox's session on the queue; the edge answers 202 only
// after the broker accepted it. The duplicate-detection key is derived from the replay key, so a re-send is a no-op.
import type { EdgeDelivery } from '../ports/edge-queue.port';
import type { EdgeContext } from './edge-types';
import { sha256Hex } from '../crypto/sha256-hex';

export function buildDelivery(ctx: EdgeContext): EdgeDelivery {
  const { hook, verified, event, eventName, tenantId, receiptId, hookId, channel } = ctx;
  if (hook === undefined || verified === undefined || event === undefined || eventName === undefined || tenantId === undefined ||
    receiptId === undefined || hookId === undefined || channel === undefined) {
    throw new TypeError('buildDelivery needs an accepted, receipted request');
  }
  return {
    tenantId,
    sandboxId: hook.registration.sandboxId,
    agentId: hook.registration.agentId,
    hookId,
    channel,
    eventType: eventName,
    deliveryId: verified.deliveryId,
    receiptId,
    dedupKey: sha256Hex(JSON.stringify([hookId, verified.replayKey])),
    receivedAtMs: ctx.nowMs,
    payload: event.payload,
  };
}

/** @throws whatever the queue throws (KarsError BUS_* for outages) */
export async function enqueueDelivery(ctx: EdgeContext): Promise<EdgeDelivery> {
  const delivery = buildDelivery(ctx);
  await ctx.deps.queue.enqueue(delivery, { abortSignal: ctx.request.abortSignal });
  return delivery;
}
