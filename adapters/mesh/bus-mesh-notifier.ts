// MeshNotifier over the Bus port (Service Bus in Azure, the local AMQP broker locally): one session per sandbox, so
// only that sandbox's router receives the note (the edge queue's pattern, adapters/edge/bus-edge-queue.ts). The note
// names what to fetch; the frame itself stays in the relay store.
import type { Bus } from '../../core/ports/bus.port';
import type { MeshNotifier } from '../../core/ports/mesh-notifier.port';

/** Session-enabled queue the relay store notifies routers on. */
export const DEFAULT_MESH_QUEUE = 'kars-mesh-inbound';

export interface MeshPendingMessage {
  v: 1;
  kind: 'mesh.pending';
  sandboxId: string;
  recipientDid: string;
  messageId: string;
}

export function createBusMeshNotifier(bus: Bus, options: { queue?: string } = {}): MeshNotifier {
  const queue = options.queue ?? DEFAULT_MESH_QUEUE;
  return {
    async notify(sandboxId, note, dedupKey, callOptions) {
      const body: MeshPendingMessage = { v: 1, kind: 'mesh.pending', sandboxId, recipientDid: note.recipientDid, messageId: note.messageId };
      await bus.send(queue, {
        body: { ...body },
        // Broker duplicate detection drops a retried notification for the same frame.
        messageId: dedupKey,
        sessionId: sandboxId,
        contentType: 'application/json',
      }, { abortSignal: callOptions?.abortSignal });
    },
  };
}
