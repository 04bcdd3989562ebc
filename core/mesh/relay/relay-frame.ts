// A frame as routers hand it to the relay store (AGENTMESH-WIRE-1.0 §9): the agent-to-agent types only, stored as
// received (ciphertext and headers are opaque here). The relay reads only the outer fields.

/** Agent → agent frames the relay stores and forwards (§9.2); `connect`, `ack`, `fetch_pending` stay at the router. */
export const RELAYED_FRAME_TYPES = ['message', 'knock', 'knock_accept', 'knock_reject'] as const;
export type RelayedFrameType = (typeof RELAYED_FRAME_TYPES)[number];

export interface RelayFrame {
  v: 1;
  type: RelayedFrameType;
  from: string;
  to: string;
  id: string;
  ts?: string;
  /** The 4.x client's legacy plaintext path (`plaintext: true`): refused (T4-I). */
  plaintext?: boolean;
  [field: string]: unknown;
}

/** The outer data a receipt records (T4-R): never the ciphertext, header, intent or signature. */
export interface EnvelopeSubject {
  readonly [key: string]: string | null;
  mesh: string;
  type: string;
  sender: string;
  recipient: string;
  messageId: string;
  frameTs: string | null;
  sizeBytes: string;
  senderSandbox: string;
  recipientSandbox: string;
}
