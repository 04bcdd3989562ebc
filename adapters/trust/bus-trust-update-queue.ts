// TrustUpdateQueue over the Bus port (T4-E): one message per subject DID as that DID's session, so one subject's
// updates apply in order; one send, so the broker takes the whole batch or none of it.
import type { Bus } from '../../core/ports/bus.port';
import type { JsonValue } from '../../core/json/json-value';
import type { TrustUpdateQueue } from '../../core/ports/trust-update-queue.port';
import { sha256Hex } from '../../core/crypto/sha256-hex';
import { TRUST_UPDATES_QUEUE } from './trust-containers';

export function createBusTrustUpdateQueue(bus: Bus, queue: string = TRUST_UPDATES_QUEUE): TrustUpdateQueue {
  return {
    async enqueue(messages) {
      if (messages.length === 0) return;
      await bus.send(queue, messages.map((m) => ({
        body: m as unknown as JsonValue,
        sessionId: m.subject,
        // Duplicate detection drops a resent identical message ((issuer, nonce) pairs are claimed once).
        messageId: sha256Hex(m.updates.map((u) => `${u.payload.issuer}:${u.payload.nonce}`).join('\n')),
      })));
    },
  };
}
