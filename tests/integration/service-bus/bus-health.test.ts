// The Service Bus health probe (real SDK) fails fast: a stopped broker, a closed port or a silent peer report down
// within about 2 s instead of hanging in the SDK's retry loop, and the probe recovers when the broker is back.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createServiceBusBus } from '../../../adapters/service-bus/create-service-bus-bus';
import { isKarsError } from '../../../core/errors';
import type { Bus } from '../../../core/ports/bus.port';
import { localServiceBusConnectionString, startServiceBusBroker } from '../../../infra/local/servicebus/start-broker';

const DOWN_WITHIN_MS = 2500;
const buses: Bus[] = [];
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

function busFor(connectionString: string): Bus {
  const bus = createServiceBusBus({ connectionString, healthQueue: 'health' });
  buses.push(bus);
  return bus;
}

/** Runs one check with a generous caller deadline and reports how it ended and how long it took. */
async function timedCheck(bus: Bus, signal = AbortSignal.timeout(30_000)): Promise<{ outcome: string; ms: number }> {
  const started = Date.now();
  try {
    await bus.health.check(signal);
    return { outcome: 'up', ms: Date.now() - started };
  } catch (e) {
    return { outcome: isKarsError(e) ? e.code : 'not-a-kars-error', ms: Date.now() - started };
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Service Bus health probe', () => {
  it('is up while the broker runs, down within 2 s once it stops, and up again after a restart on the same port', async () => {
    const broker = await startServiceBusBroker({ authorization: 'dev-allow-all', queues: [{ name: 'health' }] });
    const bus = busFor(broker.connectionString);
    expect((await timedCheck(bus)).outcome).toBe('up');
    await bus.send('health', { body: 'before' });
    await broker.stop();
    for (let i = 0; i < 2; i++) {
      const down = await timedCheck(bus);
      expect(down.outcome).not.toBe('up');
      expect(down.ms).toBeLessThan(DOWN_WITHIN_MS);
    }
    const restarted = await startServiceBusBroker({ authorization: 'dev-allow-all', port: broker.port, queues: [{ name: 'health' }] });
    try {
      const deadline = Date.now() + 20_000;
      let last = await timedCheck(bus);
      while (last.outcome !== 'up' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        last = await timedCheck(bus);
      }
      expect(last.outcome).toBe('up');
      // The application's own connection recovers too.
      await bus.send('health', { body: 'after' });
      const receiver = await bus.openReceiver('health');
      const [m] = await receiver.receive(1, { maxWaitMs: 3000 });
      expect(new TextDecoder().decode(m!.body)).toBe('"after"');
      await receiver.close();
    } finally {
      await restarted.stop();
    }
  });

  it('reports down within 2 s when nothing listens on the port', async () => {
    const bus = busFor(localServiceBusConnectionString('127.0.0.1', await freePort()));
    const down = await timedCheck(bus);
    expect(down.outcome).not.toBe('up');
    expect(down.ms).toBeLessThan(DOWN_WITHIN_MS);
  });

  it('reports down within 2 s when the peer accepts TCP but never speaks AMQP', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const bus = busFor(localServiceBusConnectionString('127.0.0.1', (silent.address() as { port: number }).port));
      const down = await timedCheck(bus);
      expect(down.outcome).toBe('BUS_UNAVAILABLE');
      expect(down.ms).toBeLessThan(DOWN_WITHIN_MS);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("honours the caller's abort signal before its own deadline", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const bus = busFor(localServiceBusConnectionString('127.0.0.1', (silent.address() as { port: number }).port));
      const aborted = await timedCheck(bus, AbortSignal.timeout(300));
      expect(aborted.outcome).toBe('DEPENDENCY_TIMEOUT');
      expect(aborted.ms).toBeLessThan(1000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
