// The fallback MeshPendingSignal: a timer. With the bus up it is a slow safety net (a lost note costs at most one
// interval); without a bus it is how the router learns of frames.
import type { MeshPendingSignal } from '../../../core/ports/mesh-pending-signal.port';

export function pollPendingSignal(intervalMs: number): MeshPendingSignal {
  return {
    start(onPending) {
      const timer = setInterval(onPending, intervalMs);
      timer.unref();
      return { stop: async () => clearInterval(timer) };
    },
  };
}
