// Drives the app's Service Bus queue triggers on the local stack, standing in for the Functions host's Service Bus
// extension (not installable offline): receives from the local broker through the Bus port (the real
// @azure/service-bus SDK), calls the same handler functions/index.ts registers, completes on success and abandons
// on a throw, so the broker redelivers (in session order) as Service Bus does.
import { randomUUID } from 'node:crypto';
import { InvocationContext, trigger } from '@azure/functions';
import { busJson, type Bus, type BusReceiver, type ReceivedBusMessage } from '../../../core/ports/bus.port';
import type { Logger } from '../../../core/ports/logger.port';
import type { QueueTriggerDef } from '../../../functions/queue-trigger-def';

export interface QueueDriverOptions {
  readonly bus: Bus;
  readonly triggers: readonly QueueTriggerDef[];
  readonly logger: Logger;
  /** Messages taken per receive (default 16). */
  readonly batchSize?: number;
}

export interface QueueDriver {
  /** Stops receiving and waits for the message in hand to settle. */
  stop(): Promise<void>;
}

export function startQueueDriver(options: QueueDriverOptions): QueueDriver {
  const { bus, logger } = options;
  const stopping = new AbortController();
  const loops = options.triggers.map((def) => runTrigger(def));

  /** @returns false when the handler threw (the message was abandoned). */
  async function dispatch(def: QueueTriggerDef, receiver: BusReceiver, message: ReceivedBusMessage): Promise<boolean> {
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: def.name,
      options: { trigger: trigger.serviceBusQueue({ connection: def.connection, queueName: def.queueName, isSessionsEnabled: def.isSessionsEnabled }), extraInputs: [], extraOutputs: [] },
      logHandler: (level) => {
        if (level === 'error') logger.error('function.log', { name: def.name });
      },
    });
    let body: unknown;
    try {
      body = busJson(message);
    } catch {
      body = new Uint8Array(message.body); // the handler refuses what it cannot parse
    }
    try {
      await def.handler(body, context);
    } catch (e) {
      logger.warn('queue.handler_failed', { name: def.name, queue: def.queueName, code: (e as { code?: string }).code ?? 'INTERNAL' });
      await receiver.abandon(message).catch(() => undefined);
      return false;
    }
    await receiver.complete(message);
    return true;
  }

  async function runTrigger(def: QueueTriggerDef): Promise<void> {
    while (!stopping.signal.aborted) {
      let receiver: BusReceiver | undefined;
      try {
        receiver = def.isSessionsEnabled
          ? await bus.acceptNextSession(def.queueName, { abortSignal: stopping.signal })
          : await bus.openReceiver(def.queueName);
        if (!receiver) continue;
        // Drain the session (or the queue) until it is idle, then let go of it so other sessions get a turn.
        for (;;) {
          if (stopping.signal.aborted) break;
          const messages = await receiver.receive(options.batchSize ?? 16, { maxWaitMs: 500, abortSignal: stopping.signal });
          if (messages.length === 0) break;
          let failedAt = -1;
          for (const [i, m] of messages.entries()) {
            if (!(await dispatch(def, receiver, m))) {
              failedAt = i;
              break;
            }
          }
          if (failedAt >= 0) {
            // Session order: the messages after a failed one are handed back unprocessed, so the broker delivers the
            // failed one again first (a session's messages come in sequence order).
            for (const m of messages.slice(failedAt + 1)) await receiver.abandon(m).catch(() => undefined);
            break;
          }
        }
      } catch (e) {
        if (stopping.signal.aborted) break;
        logger.warn('queue.receive_failed', { name: def.name, queue: def.queueName, code: (e as { code?: string }).code ?? 'INTERNAL' });
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await receiver?.close().catch(() => undefined);
      }
    }
  }

  return {
    async stop() {
      stopping.abort();
      await Promise.allSettled(loops);
    },
  };
}
