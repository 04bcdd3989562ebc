// EdgeQueue over the Bus port (Service Bus in Azure, the local AMQP broker locally) (T1-E): one session per sandbox, so
// only that sandbox's router receives the delivery; the send resolves only once the broker accepted the message.
import type { JsonValue } from '../../core/json/json-value';
import type { Bus } from '../../core/ports/bus.port';
import type { EdgeDelivery, EdgeQueue } from '../../core/ports/edge-queue.port';

/** Default queue (session-enabled) the edge writes to. */
export const DEFAULT_EDGE_QUEUE = 'kars-edge-inbound';

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
  /** Session-enabled queue name (default {@link DEFAULT_EDGE_QUEUE}). */
  queue?: string;
}

export function createBusEdgeQueue(bus: Bus, options: BusEdgeQueueOptions = {}): EdgeQueue {
  const queue = options.queue ?? DEFAULT_EDGE_QUEUE;
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
