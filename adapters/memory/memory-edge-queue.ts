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
      deliveries.push(received(delivery));
    },
  };
}

// What the bus would hand a receiver: the payload as its JSON (what is not JSON does not arrive), serialised now and
// parsed when first read, so a benchmark that never reads deliveries does not pay for the parse.
function received(delivery: EdgeDelivery): EdgeDelivery {
  const json = JSON.stringify(delivery.payload) as string | undefined;
  let payload: unknown;
  let parsed = false;
  const copy = { ...delivery };
  Object.defineProperty(copy, 'payload', {
    enumerable: true,
    configurable: true,
    get(): unknown {
      if (!parsed) {
        payload = json === undefined ? undefined : JSON.parse(json);
        parsed = true;
      }
      return payload;
    },
  });
  return copy;
}
