// The receipt of a router bridge decision on a frame (T4-S, T4-R): outer fields only (never ciphertext, intent,
// establishment or signatures), hashed in a fixed order so a verifier can recompute it.
import type { RequestReceipt } from '../../ports/receipt-sink.port';
import { sha256Hex } from '../../crypto/sha256-hex';

export const BRIDGE_RECEIPT_KIND = 'mesh.bridge';
const DOMAIN = 'kars.mesh.bridge.v1';
const ORDER = ['sandbox', 'direction', 'type', 'sender', 'recipient', 'messageId', 'decision'] as const;

export type BridgeSubject = {
  sandbox: string;
  direction: 'inbound' | 'outbound';
  type: string | null;
  sender: string | null;
  recipient: string | null;
  messageId: string | null;
  /** What the router did: `refused`, `auto-rejected`. */
  decision: string;
};

export function bridgeReceipt(subject: BridgeSubject, atMs: number, status: number, code: string): RequestReceipt {
  return {
    kind: BRIDGE_RECEIPT_KIND,
    partition: `sandbox:${subject.sandbox}`,
    atMs,
    requestHash: sha256Hex(JSON.stringify([DOMAIN, ...ORDER.map((k) => subject[k])])),
    outcome: 'rejected',
    status,
    code,
    subject,
  };
}
