// The receipt of a router bridge refusal (T4-S, T4-R): outer fields only (never ciphertext, intent, establishment or
// signatures), hashed in a fixed order with its code and status so a verifier (and the router-receipt route,
// core/router/audit/accept-router-receipts.ts) can recompute it. Shape as the router's other receipts: partition and
// `sandboxId` = the router's sandbox, `atMs` in the subject.
import type { RequestReceipt } from '../../ports/receipt-sink.port';
import { sha256Hex } from '../../crypto/sha256-hex';

export const BRIDGE_RECEIPT_KIND = 'mesh.bridge';
const DOMAIN = 'kars.mesh.bridge.v1';
export const BRIDGE_SUBJECT_KEYS = ['sandboxId', 'direction', 'type', 'sender', 'recipient', 'messageId', 'decision', 'atMs'] as const;

export type BridgeSubject = {
  sandboxId: string;
  direction: 'inbound' | 'outbound';
  type: string | null;
  sender: string | null;
  recipient: string | null;
  messageId: string | null;
  /** What the router did: `refused`, `auto-rejected`. */
  decision: string;
  atMs: string;
};

export function bridgeReceiptHash(code: string, status: number, subject: Readonly<Record<string, string | null>>): string {
  return sha256Hex(JSON.stringify([DOMAIN, code, status, ...BRIDGE_SUBJECT_KEYS.map((k) => subject[k] ?? null)]));
}

export function bridgeReceipt(subject: Omit<BridgeSubject, 'atMs'>, atMs: number, status: number, code: string): RequestReceipt {
  const full: BridgeSubject = { ...subject, atMs: String(atMs) };
  return {
    kind: BRIDGE_RECEIPT_KIND,
    partition: subject.sandboxId,
    atMs,
    requestHash: bridgeReceiptHash(code, status, full),
    outcome: 'rejected',
    status,
    code,
    subject: full,
  };
}
