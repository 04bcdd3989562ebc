// The event the edge writes (adapters/edge/bus-edge-queue.ts) is what the router reads: one strict schema, own sandbox only.
import { describe, expect, it } from 'vitest';
import type { EdgeDeliveryMessage } from '../../../../adapters/edge/bus-edge-queue';
import type { ReceivedBusMessage } from '../../../../core/ports/bus.port';
import { readEdgeEvent, type EdgeEvent } from '../../../../core/router/events/edge-event';

const event: EdgeDeliveryMessage = {
  v: 1, tenantId: 't1', sandboxId: 'sb-a', agentId: 'agent', hookId: 'h1', channel: 'github', eventType: 'push',
  deliveryId: 'd1', receiptId: 'c:1:0', receivedAtMs: 1_700_000_000_000, payload: { ref: 'refs/heads/main' },
};
// Both directions: the edge's wire type and the router's schema type stay one shape.
const asEvent: EdgeEvent = event;
const asWire: EdgeDeliveryMessage = asEvent;

const message = (body: unknown, sessionId = 'sb-a'): ReceivedBusMessage => ({
  messageId: 'm1', sessionId, contentType: 'application/json', body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
  applicationProperties: {}, deliveryCount: 0, sequenceNumber: 1, enqueuedAtMs: 0, lockToken: 'l', lockedUntilMs: 0,
  deadLetterReason: undefined, deadLetterDescription: undefined,
});

describe('readEdgeEvent', () => {
  it('reads the edge’s version 1 message', () => {
    expect(readEdgeEvent(message(asWire), { sandboxId: 'sb-a', sessionId: 'sb-a' })).toEqual({ ok: true, value: event });
    expect(readEdgeEvent(message(event, 'other'), { sandboxId: 'sb-a', sessionId: undefined }).ok).toBe(true);
  });

  it('refuses bodies that are not a version 1 event (EventBodyInvalid)', () => {
    for (const body of ['not json', '\xff', { ...event, v: 2 }, { ...event, extra: 1 }, { ...event, deliveryId: '' }, { ...event, receivedAtMs: -1 }, []]) {
      expect(readEdgeEvent(message(body), { sandboxId: 'sb-a', sessionId: 'sb-a' })).toMatchObject({ ok: false, code: 'EventBodyInvalid' });
    }
  });

  it('refuses an event of another sandbox or session (T1-E), whatever the broker delivered', () => {
    expect(readEdgeEvent(message({ ...event, sandboxId: 'sb-b' }), { sandboxId: 'sb-a', sessionId: 'sb-a' })).toMatchObject({ ok: false, code: 'EventForOtherSandbox' });
    expect(readEdgeEvent(message(event, 'sb-b'), { sandboxId: 'sb-a', sessionId: 'sb-a' })).toMatchObject({ ok: false, code: 'EventForOtherSandbox' });
  });
});
