// In-memory EdgeQueue for unit tests and benchmarks only: keeps deliveries per sandbox session and can be told to fail.
import { KarsError, type KarsErrorCode } from '../../core/errors';
import type { EdgeDelivery, EdgeQueue } from '../../core/ports/edge-queue.port';

export interface MemoryEdgeQueue extends EdgeQueue {
  /** Every accepted delivery, in order. */
  readonly deliveries: EdgeDelivery[];
  /** Deliveries of one sandbox session. */
  session(sandboxId: string): EdgeDelivery[];
  /** Makes the next enqueues throw KarsError(code) until called with undefined. */
  failWith(code: KarsErrorCode | undefined): void;
}

export function createMemoryEdgeQueue(): MemoryEdgeQueue {
  const deliveries: EdgeDelivery[] = [];
  let failure: KarsErrorCode | undefined;
  return {
    deliveries,
    session: (sandboxId) => deliveries.filter((d) => d.sandboxId === sandboxId),
    failWith(code) {
      failure = code;
    },
    async enqueue(delivery) {
      if (failure !== undefined) throw new KarsError(failure, 'memory queue refused the delivery');
      // A JSON round trip, as the bus would do: what is not JSON does not arrive.
      deliveries.push({ ...delivery, payload: JSON.parse(JSON.stringify(delivery.payload)) as unknown });
    },
  };
}
