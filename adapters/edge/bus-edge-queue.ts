// EdgeQueue over the Bus port (Service Bus in Azure, the local AMQP broker locally) (T1-E): each delivery goes to its
// sandbox's own queue `sbx-<sandboxId>` (core/sandbox/sandbox-events-entity.ts), which only that sandbox's identity
// may receive from, so the broker, not the router's code, keeps one sandbox's events from another's router. The
// session stays the sandbox id (ordering). The send resolves only once the broker accepted the message.
import type { JsonValue } from '../../core/json/json-value';
import type { Bus } from '../../core/ports/bus.port';
import type { EdgeDelivery, EdgeQueue } from '../../core/ports/edge-queue.port';
import { sandboxEventsEntity } from '../../core/sandbox/sandbox-events-entity';

/**
 * The one session-enabled queue every sandbox's events shared before T1-E's per-sandbox queues; only the attack
 * test's `_disable: ['sandbox-entity']` still writes to it, to show what a shared queue lets a router read.
 */
export const DEFAULT_EDGE_QUEUE = 'kars-edge-inbound';

/** Mitigation switches of this adapter; only tests set them (no configuration loader reads `_disable`). */
export type BusEdgeQueueMitigation = 'sandbox-entity';

/** Message body on the wire; the router of the sandbox parses this. */
export interface EdgeDeliveryMessage {
  v: 1;
  tenantId: string;
  sandboxId: string;
  agentId: string;
  hookId: string;
  channel: string;
  eventType: string;
  deliveryId: string;
  receiptId: string;
  receivedAtMs: number;
  payload: JsonValue;
}

export interface BusEdgeQueueOptions {
  /** Tests only (T1-E attack test): `sandbox-entity` sends every delivery to the shared {@link DEFAULT_EDGE_QUEUE}. */
  _disable?: readonly BusEdgeQueueMitigation[];
}

export function createBusEdgeQueue(bus: Bus, options: BusEdgeQueueOptions = {}): EdgeQueue {
  const perSandbox = !(options._disable ?? []).includes('sandbox-entity');
  return {
    async enqueue(delivery: EdgeDelivery, callOptions) {
      const body: EdgeDeliveryMessage = {
        v: 1,
        tenantId: delivery.tenantId,
        sandboxId: delivery.sandboxId,
        agentId: delivery.agentId,
        hookId: delivery.hookId,
        channel: delivery.channel,
        eventType: delivery.eventType,
        deliveryId: delivery.deliveryId,
        receiptId: delivery.receiptId,
        receivedAtMs: delivery.receivedAtMs,
        // The payload came out of JSON.parse and a zod schema: it is JSON.
        payload: delivery.payload as JsonValue,
      };
      // Throws INPUT_INVALID for an id that is no DNS-1123 label: registrations are validated, so this is a bug guard.
      const queue = perSandbox ? sandboxEventsEntity(delivery.sandboxId) : DEFAULT_EDGE_QUEUE;
      await bus.send(queue, {
        body: body as unknown as JsonValue,
        // Broker duplicate detection: a retried send of the same delivery is dropped by Service Bus.
        messageId: delivery.dedupKey,
        sessionId: delivery.sandboxId,
        contentType: 'application/json',
        applicationProperties: {
          tenantId: delivery.tenantId,
          hookId: delivery.hookId,
          channel: delivery.channel,
          eventType: delivery.eventType,
          receiptId: delivery.receiptId,
        },
      }, { abortSignal: callOptions?.abortSignal });
    },
  };
}
