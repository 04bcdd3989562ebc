// The inbound event as the edge puts it on the bus (adapters/edge/bus-edge-queue.ts, version 1), checked at the
// router's boundary before anything of it reaches the agent: one strict schema, and the sandbox it names must be this
// router's own (T1-E: an event for another sandbox is never handed out, whatever the broker delivered).
import { z } from 'zod';
import type { ReceivedBusMessage } from '../../ports/bus.port';
import { busJson } from '../../ports/bus.port';
import type { JsonValue } from '../../json/json-value';
import { fail, ok, type Result } from '../../errors';

const id = z.string().min(1).max(256);

export const edgeEventSchema = z.strictObject({
  v: z.literal(1),
  tenantId: id,
  sandboxId: id,
  agentId: id,
  hookId: id,
  channel: z.string().min(1).max(64),
  eventType: z.string().min(1).max(256),
  deliveryId: id,
  receiptId: id,
  receivedAtMs: z.number().int().nonnegative(),
  // JSON.parse output that passed the edge's own channel schema.
  payload: z.custom<JsonValue>(() => true),
});

export type EdgeEvent = z.infer<typeof edgeEventSchema>;

/** Why a message cannot be handed out; the dead-letter reason on the broker. */
export type EdgeEventRejection = 'EventBodyInvalid' | 'EventForOtherSandbox';

/**
 * @param expected this router's sandbox and the session it receives (undefined: an entity without sessions)
 * @returns the event, or the dead-letter reason (never the body's content)
 */
export function readEdgeEvent(
  message: ReceivedBusMessage, expected: { sandboxId: string; sessionId: string | undefined },
): Result<EdgeEvent, EdgeEventRejection> {
  let body: unknown;
  try {
    body = busJson(message);
  } catch {
    return fail('EventBodyInvalid', 'the message body is not UTF-8 JSON');
  }
  const parsed = edgeEventSchema.safeParse(body);
  if (!parsed.success) return fail('EventBodyInvalid', 'the message body is not a version 1 edge event');
  if (parsed.data.sandboxId !== expected.sandboxId || (expected.sessionId !== undefined && message.sessionId !== expected.sessionId)) {
    return fail('EventForOtherSandbox', 'the event names another sandbox or session');
  }
  return ok(parsed.data);
}
