// One registry document per agent (partition = its DID): registration, the sandbox it is bound to, and its prekey
// bundle, so consuming a one-time prekey is one If-Match replace of one document (AGENTMESH-WIRE-1.0 §11, §6).
import type { DocumentBody } from '../../ports/document-store.port';

export const AGENT_DOC_ID = 'agent';

export interface StoredPrekey {
  keyId: number;
  /** base64url, 32 bytes (X25519). */
  publicKey: string;
}

export interface StoredBundle {
  /** base64url X25519 identity key. */
  identityKey: string;
  signedPreKey: StoredPrekey & { signature: string };
  oneTimePreKeys: StoredPrekey[];
}

export interface AgentDoc extends DocumentBody {
  id: typeof AGENT_DOC_ID;
  did: string;
  /** The sandbox whose router registered the agent: only that router may act for it (per-sandbox identity). */
  sandboxId: string;
  /** base64url of the key the agent registered with (X25519 for the 4.x npm client, Ed25519 per the spec). */
  publicKey: string;
  /** base64url Ed25519 identity key, bound at the first prekey upload; verifies Ed25519-Timestamp and the SPK. */
  identityKeyEd?: string;
  capabilities: string[];
  metadata: Record<string, string>;
  registeredAtMs: number;
  lastSeenMs: number;
  bundle?: StoredBundle;
  /**
   * Set by the first step of a delete: the agent is gone for every reader (relay, prekeys, discovery) but the DID stays
   * claimed by its sandbox until the capability entries and the sandbox binding are removed; the document goes last.
   */
  deletingAtMs?: number;
}

/**
 * The sandbox → DID binding (partition `sandbox:<id>`): one agent per sandbox, kept until the agent is deleted. The
 * agent document is the authority: a binding naming a DID whose document is gone or bound elsewhere is stale.
 */
export interface SandboxBindingDoc extends DocumentBody {
  id: 'binding';
  sandboxId: string;
  did: string;
}

export const sandboxPartition = (sandboxId: string): string => `sandbox:${sandboxId}`;

/** A capability index entry (partition `cap:<sha256(capability)>`, id sha256(did)): discovery is a one-partition query. */
export interface CapabilityEntryDoc extends DocumentBody {
  did: string;
  capabilities: string[];
  lastSeenMs: number;
}
