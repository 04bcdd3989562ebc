// Inbound events of the router daemon: the relay over the sandbox's own entity and session, with the timer that gives
// back leases past their ack window and renews the locks of those still waiting for the agent.
import { randomUUID } from 'node:crypto';
import type { Bus } from '../../core/ports/bus.port';
import type { Clock } from '../../core/ports/clock.port';
import type { Logger } from '../../core/ports/logger.port';
import { createEventRelay, type EventRelay } from '../../core/router/events/event-relay';
import { createBusEventReceiver } from '../../adapters/service-bus/bus-event-receiver';

export interface RouterEventsSettings {
  readonly sandboxId: string;
  readonly entity: string;
  /** undefined: an entity without sessions. */
  readonly sessionId: string | undefined;
  readonly ackWindowMs: number;
  readonly maxInFlight: number;
  /** How often leases are checked for their deadline and lock (default 250 ms). */
  readonly tickMs?: number;
}

export interface RouterEvents {
  readonly relay: EventRelay;
  /** Stops the timer, gives back every lease still held and closes the receiver (not the bus). */
  close(): Promise<void>;
}

export function startRouterEvents(settings: RouterEventsSettings, deps: { bus: Bus; clock: Clock; logger: Logger }): RouterEvents {
  const receiver = createBusEventReceiver(deps.bus, { queue: settings.entity, sessionId: settings.sessionId, logger: deps.logger });
  const relay = createEventRelay(
    { sandboxId: settings.sandboxId, sessionId: settings.sessionId, maxInFlight: settings.maxInFlight, ackWindowMs: settings.ackWindowMs },
    { receiver, clock: deps.clock, logger: deps.logger, newLeaseId: randomUUID },
  );
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      ticking = relay.tick().catch(() => undefined).then(schedule);
    }, settings.tickMs ?? 250);
    timer.unref();
  };
  schedule();
  return {
    relay,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await relay.close();
    },
  };
}
