// One pending frame in the relay store: partition = the recipient DID, id = SHA-256 of the message id (ids may hold
// characters Cosmos refuses), so a second post of one message id is a create conflict (dedup, §12.3).
import type { DocumentBody } from '../../ports/document-store.port';
import { sha256Hex } from '../../crypto/sha256-hex';
import type { RelayFrame } from './relay-frame';

export interface InboxEntryDoc extends DocumentBody {
  messageId: string;
  sender: string;
  receivedAtMs: number;
  /** receivedAtMs + TTL; also checked on read, not left to the store's purge (docs/cosmos-local-gaps.md). */
  expiresAtMs: number;
  sizeBytes: number;
  /** Acknowledged by the recipient: the frame is gone, the outer fields stay as a dedup tombstone until expiry. */
  acked: boolean;
  frame?: RelayFrame;
}

export const inboxEntryId = (messageId: string): string => sha256Hex(`mesh-frame\n${messageId}`);
