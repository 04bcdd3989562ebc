// MeshPendingSignal over the Bus port: the router holds its sandbox's session on the queue the relay store notifies on
// (adapters/mesh/bus-mesh-notifier.ts; session = sandbox id, so it sees only its own notes). Each note is completed
// once the router was told; the frame itself is fetched from the relay store. The queue name is a parameter, so the
// entity can change without the bridge noticing. A lost session lock or a broker outage backs off and re-accepts.
import { isKarsError } from '../../core/errors';
import type { Bus, BusSessionReceiver } from '../../core/ports/bus.port';
import type { Logger } from '../../core/ports/logger.port';
import type { MeshPendingSignal } from '../../core/ports/mesh-pending-signal.port';
import { DEFAULT_MESH_QUEUE } from './bus-mesh-notifier';

export interface BusMeshPendingSignalOptions {
  sandboxId: string;
  queue?: string;
  /** Long-poll per receive (default 5 s). */
  receiveWaitMs?: number;
  /** Back-off after a failure (default 2 s). */
  retryMs?: number;
}

export function busMeshPendingSignal(bus: Bus, logger: Logger, options: BusMeshPendingSignalOptions): MeshPendingSignal {
  const queue = options.queue ?? DEFAULT_MESH_QUEUE;
  return {
    start(onPending) {
      let stopped = false;
      let receiver: BusSessionReceiver | undefined;
      const abort = new AbortController();
      const pause = (ms: number): Promise<void> => new Promise((r) => {
        const t = setTimeout(r, ms);
        abort.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
      });
      const loop = (async () => {
        while (!stopped) {
          try {
            receiver ??= await bus.acceptSession(queue, options.sandboxId, { abortSignal: abort.signal });
            // One note per receive: a batch receive waits up to 1 s after the first message to fill the batch (the SDK's
            // maxTimeAfterFirstMessage), which the bench measured as 0.5–1 s of delivery latency; one note is enough to
            // wake the fetch of every pending frame.
            const notes = await receiver.receive(1, { maxWaitMs: options.receiveWaitMs ?? 5000, abortSignal: abort.signal });
            if (notes.length > 0) onPending();
            for (const note of notes) await receiver.complete(note);
            if (receiver.lockedUntilMs - Date.now() < 15_000) await receiver.renewLock();
          } catch (e) {
            if (stopped) break;
            logger.warn('mesh.bridge_signal_failed', { sandboxId: options.sandboxId, code: isKarsError(e) ? e.code : 'INTERNAL' });
            await receiver?.close().catch(() => undefined);
            receiver = undefined;
            await pause(options.retryMs ?? 2000);
          }
        }
      })();
      return {
        async stop() {
          stopped = true;
          abort.abort();
          await loop;
          await receiver?.close().catch(() => undefined);
        },
      };
    },
  };
}
