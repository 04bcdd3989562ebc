// Health of Service Bus: a peek on one queue ($management round trip after CBS auth). Answers within a deadline
// even when the broker is dead: the SDK's own reconnect/retry loop keeps running in the background, shared by
// later checks, and never holds a health request hostage.
import type { ServiceBusClient, ServiceBusReceiver } from '@azure/service-bus';
import { KarsError } from '../../core/errors';
import type { HealthProbe } from '../../core/ports/health-probe.port';
import { translateServiceBusError } from './translate-service-bus-error';

export interface ServiceBusHealthProbeOptions {
  /** Queue peeked by the probe; a namespace that answers "no such queue" has still answered. */
  queue: string;
  /** Upper bound of one check (default 2000 ms), on top of the caller's AbortSignal. */
  timeoutMs?: number;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 2000;

export function createServiceBusHealthProbe(client: ServiceBusClient, options: ServiceBusHealthProbeOptions): HealthProbe {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  let receiver: ServiceBusReceiver | undefined;
  let inFlight: Promise<void> | undefined;

  const probeOnce = async (): Promise<void> => {
    receiver ??= client.createReceiver(options.queue, { receiveMode: 'peekLock', skipParsingBodyAsJson: true });
    try {
      await receiver.peekMessages(1);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'MessagingEntityNotFound') return;
      throw translateServiceBusError(e, 'service-bus health');
    }
  };

  return {
    name: 'service-bus',
    check(signal: AbortSignal): Promise<void> {
      if (signal.aborted) return Promise.reject(new KarsError('DEPENDENCY_TIMEOUT', 'service-bus health: aborted'));
      const attempt = (inFlight ??= probeOnce().finally(() => {
        inFlight = undefined;
      }));
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
        };
        const onAbort = (): void => {
          done();
          reject(new KarsError('DEPENDENCY_TIMEOUT', 'service-bus health: aborted'));
        };
        const timer = setTimeout(() => {
          done();
          reject(new KarsError('BUS_UNAVAILABLE', `service-bus health: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        attempt.then(
          () => {
            done();
            resolve();
          },
          (e: unknown) => {
            done();
            reject(translateServiceBusError(e, 'service-bus health'));
          },
        );
      });
    },
  };
}
