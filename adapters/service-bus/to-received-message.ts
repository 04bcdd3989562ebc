// Converts an SDK received message to the SDK-free ReceivedBusMessage of the Bus port.
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import type { BusPropertyValue, ReceivedBusMessage } from '../../core/ports/bus.port';

const utf8 = new TextEncoder();

function bodyBytes(body: unknown): Uint8Array {
  // Receivers are opened with skipParsingBodyAsJson, so data sections arrive as Buffers; other clients may send
  // an AMQP value (a string or a map), which is carried as its UTF-8 / JSON text.
  if (body instanceof Uint8Array) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'string') return utf8.encode(body);
  if (body === undefined || body === null) return new Uint8Array(0);
  return utf8.encode(JSON.stringify(body));
}

function primitiveProperties(props: Record<string, unknown> | undefined): Record<string, BusPropertyValue> {
  const out: Record<string, BusPropertyValue> = {};
  for (const [k, v] of Object.entries(props ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (v instanceof Date) out[k] = v.getTime();
  }
  return out;
}

export function toReceivedBusMessage(m: ServiceBusReceivedMessage): ReceivedBusMessage {
  return {
    messageId: m.messageId === undefined ? '' : String(m.messageId),
    sessionId: m.sessionId,
    contentType: m.contentType,
    body: bodyBytes(m.body),
    applicationProperties: primitiveProperties(m.applicationProperties as Record<string, unknown> | undefined),
    deliveryCount: m.deliveryCount ?? 0,
    sequenceNumber: m.sequenceNumber ? m.sequenceNumber.toNumber() : 0,
    enqueuedAtMs: m.enqueuedTimeUtc ? m.enqueuedTimeUtc.getTime() : 0,
    lockToken: m.lockToken ?? '',
    lockedUntilMs: m.lockedUntilUtc ? m.lockedUntilUtc.getTime() : 0,
    deadLetterReason: m.deadLetterReason,
    deadLetterDescription: m.deadLetterErrorDescription,
  };
}
