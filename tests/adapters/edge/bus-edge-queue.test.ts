import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusEdgeQueue, type EdgeDeliveryMessage } from '../../../adapters/edge/bus-edge-queue';
import { createMemoryBus } from '../../../adapters/memory/memory-bus';
import { isKarsError } from '../../../core/errors';
import { busJson, type Bus } from '../../../core/ports/bus.port';
import type { EdgeDelivery } from '../../../core/ports/edge-queue.port';
import { sandboxEventsEntity } from '../../../core/sandbox/sandbox-events-entity';
import { startAuthorizedBroker, type AuthorizedBroker } from '../../support/authorized-broker';

// Each sandbox's own queue (T1-E); the broker harness's app identity owns the namespace here, so it can read them all.
const SANDBOXES = ['sb-x', 'sb-y', 'sb-dup', 'sandbox-a'];
const QUEUES = SANDBOXES.map((id) => ({ name: sandboxEventsEntity(id), requiresSession: true }));

function delivery(overrides: Partial<EdgeDelivery> = {}): EdgeDelivery {
  return {
    tenantId: 'tenant-a', sandboxId: 'sandbox-a', agentId: 'agent-a', hookId: 'hk-1', channel: 'github', eventType: 'push',
    deliveryId: 'd-1', receiptId: 'r-1', dedupKey: 'a'.repeat(64), receivedAtMs: 1_760_000_000_000,
    payload: { ref: 'refs/heads/main', n: [1, 2] }, ...overrides,
  };
}

let stack: AuthorizedBroker;
const buses: Array<[string, () => Bus]> = [];
let sdkBus: Bus;
let memoryBus: Bus;
beforeAll(async () => {
  stack = await startAuthorizedBroker({ queues: QUEUES, strictQueues: true, appOwnsNamespace: true });
  sdkBus = stack.bus(stack.app);
  memoryBus = createMemoryBus({ queues: QUEUES, strictQueues: true });
}, 30_000);
afterAll(async () => {
  await stack?.stop();
});
buses.push(['memory bus', () => memoryBus], ['Service Bus SDK + local broker', () => sdkBus]);

describe.each(buses)('bus edge queue over %s', (_name, bus) => {
  it('sends to the sandbox\'s own queue and session with the dedup key as message id; no other queue receives it', async () => {
    const queue = createBusEdgeQueue(bus());
    await queue.enqueue(delivery({ sandboxId: 'sb-x', dedupKey: 'b'.repeat(64) }));
    const other = await bus().acceptSession(sandboxEventsEntity('sb-y'), 'sb-x');
    expect(await other.receive(5, { maxWaitMs: 300 })).toEqual([]);
    await other.close();
    const mine = await bus().acceptSession(sandboxEventsEntity('sb-x'), 'sb-x');
    const [m] = await mine.receive(5, { maxWaitMs: 2000 });
    expect(m).toBeDefined();
    expect(m!.sessionId).toBe('sb-x');
    expect(m!.messageId).toBe('b'.repeat(64));
    expect(m!.applicationProperties).toMatchObject({ tenantId: 'tenant-a', hookId: 'hk-1', channel: 'github', eventType: 'push', receiptId: 'r-1' });
    const body = busJson(m!) as unknown as EdgeDeliveryMessage;
    expect(body).toEqual({
      v: 1, tenantId: 'tenant-a', sandboxId: 'sb-x', agentId: 'agent-a', hookId: 'hk-1', channel: 'github', eventType: 'push',
      deliveryId: 'd-1', receiptId: 'r-1', receivedAtMs: 1_760_000_000_000, payload: { ref: 'refs/heads/main', n: [1, 2] },
    });
    await mine.complete(m!);
    await mine.close();
  });

  it('a re-send of the same delivery is dropped by broker duplicate detection', async () => {
    const queue = createBusEdgeQueue(bus());
    await queue.enqueue(delivery({ sandboxId: 'sb-dup', dedupKey: 'c'.repeat(64) }));
    await queue.enqueue(delivery({ sandboxId: 'sb-dup', dedupKey: 'c'.repeat(64) }));
    const r = await bus().acceptSession(sandboxEventsEntity('sb-dup'), 'sb-dup');
    const got = await r.receive(5, { maxWaitMs: 1000 });
    expect(got).toHaveLength(1);
    for (const m of got) await r.complete(m);
    await r.close();
  });

  it('surfaces a sandbox without a queue (never provisioned) as BUS_QUEUE_NOT_FOUND', async () => {
    const queue = createBusEdgeQueue(bus());
    const err = await queue.enqueue(delivery({ sandboxId: 'no-such-sandbox' })).then(() => undefined, (e: unknown) => e);
    expect(isKarsError(err) && err.code).toBe('BUS_QUEUE_NOT_FOUND');
  });

  it('refuses a sandbox id that is no DNS-1123 label before anything is sent (INPUT_INVALID)', async () => {
    const queue = createBusEdgeQueue(bus());
    const err = await queue.enqueue(delivery({ sandboxId: 'A/$DeadLetterQueue' })).then(() => undefined, (e: unknown) => e);
    expect(isKarsError(err) && err.code).toBe('INPUT_INVALID');
  });
});
