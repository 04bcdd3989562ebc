// The local stand-in for the Functions host's Service Bus extension: through the real @azure/service-bus SDK on the
// local broker it hands each message to the trigger's handler in session order, completes it on success and
// abandons it on a throw, so the broker redelivers it (deliveryCount + 1) before the next message of that session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../../core/ports/bus.port';
import { silentLogger } from '../../../core/ports/logger.port';
import { startQueueDriver } from '../../../infra/local/host/queue-driver';
import { startAuthorizedBroker, type AuthorizedBroker } from '../../support/authorized-broker';

const QUEUE = 'driver-test';
let broker: AuthorizedBroker;
let bus: Bus;

beforeAll(async () => {
  broker = await startAuthorizedBroker({ queues: [{ name: QUEUE, requiresSession: true }], strictQueues: true, appOwnsNamespace: true });
  bus = broker.bus(broker.app, { sessionWaitMs: 1000, operationTimeoutMs: 10_000 });
}, 30_000);

afterAll(async () => {
  await bus?.close();
  await broker?.stop();
});

describe('local queue driver', () => {
  it('delivers in session order, redelivers what the handler threw on, and stops cleanly', async () => {
    const seen: string[] = [];
    let failedOnce = false;
    const driver = startQueueDriver({
      bus, logger: silentLogger,
      triggers: [{
        name: 'probe', queueName: QUEUE, isSessionsEnabled: true, connection: 'KarsServiceBus',
        handler: async (message) => {
          const { n } = message as { n: string };
          seen.push(n);
          if (n === 's1-2' && !failedOnce) {
            failedOnce = true;
            throw new Error('transient');
          }
        },
      }],
    });
    try {
      await bus.send(QUEUE, ['s1-1', 's1-2', 's1-3'].map((n) => ({ body: { n }, sessionId: 's1' })));
      await bus.send(QUEUE, { body: { n: 's2-1' }, sessionId: 's2' });
      const deadline = Date.now() + 20_000;
      while (seen.filter((n) => n !== 's1-2').length < 3 || seen.filter((n) => n === 's1-2').length < 2) {
        if (Date.now() > deadline) throw new Error(`not all delivered: ${seen.join(',')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const s1 = seen.filter((n) => n.startsWith('s1-'));
      // The abandoned message comes again before the next one of its session.
      expect(s1).toEqual(['s1-1', 's1-2', 's1-2', 's1-3']);
      expect(seen).toContain('s2-1');
    } finally {
      const started = Date.now();
      await driver.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    // Everything was completed: nothing is left in either session.
    const rest = await bus.acceptNextSession(QUEUE);
    expect(rest).toBeUndefined();
  }, 60_000);
});
