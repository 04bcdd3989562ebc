// The receipt of a relayed envelope (T4-R): the outer data only (sender, recipient, mesh, time, size, message id),
// hashed in a fixed order so a verifier can recompute it; the content stays sealed and never reaches the audit chain.
import type { RequestReceipt } from '../../ports/receipt-sink.port';
import { sha256Hex } from '../../crypto/sha256-hex';
import type { EnvelopeSubject } from './relay-frame';

export const ENVELOPE_HASH_DOMAIN = 'kars.mesh.envelope.v1';
export const ENVELOPE_RECEIPT_KIND = 'mesh.envelope';

const ORDER = ['mesh', 'type', 'sender', 'recipient', 'messageId', 'frameTs', 'sizeBytes', 'senderSandbox', 'recipientSandbox'] as const;

export function envelopeHash(subject: EnvelopeSubject): string {
  return sha256Hex(JSON.stringify([ENVELOPE_HASH_DOMAIN, ...ORDER.map((k) => subject[k])]));
}

export function envelopeReceipt(subject: EnvelopeSubject, atMs: number, outcome: RequestReceipt['outcome'], status: number, code?: string): RequestReceipt {
  return {
    kind: ENVELOPE_RECEIPT_KIND,
    partition: `mesh:${subject.mesh}`,
    atMs,
    requestHash: envelopeHash(subject),
    outcome,
    status,
    ...(code === undefined ? {} : { code }),
    subject,
  };
}
