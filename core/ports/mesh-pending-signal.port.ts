// How a router learns that frames wait for its agent at the relay store: Service Bus (session = its sandbox) in the
// deployment, with polling as the fallback. Behind a port so the queue or topic it listens on can change without the
// bridge noticing.
export interface MeshPendingSignal {
  /** Starts listening; `onPending` is called (without arguments: the router fetches what is pending) per note. */
  start(onPending: () => void): { stop(): Promise<void> };
}
