// Mitigation switches of the mesh registry and relay store. Only tests set them (`_disable` options, never read from
// configuration): each attack test runs with its mitigation on, then off, to show the attack is what the code stops.
export type MeshMitigation =
  /** T4-S: Ed25519-Timestamp header verification (freshness and signature). */
  | 'ed25519-auth'
  /** T4-S: the replay store for Ed25519-Timestamp headers. */
  | 'auth-replay'
  /** T4-S: the signed-prekey signature check at upload. */
  | 'prekey-signature'
  /** T4-S: a router acts only for the agent bound to its own sandbox. */
  | 'sandbox-binding'
  /** T4-S: one-time prekeys handed out under If-Match (exactly once). */
  | 'opk-cas'
  /** T4-I: frames marked `plaintext: true` refused. */
  | 'plaintext-refusal'
  /** T4-D: per-identity and global rate limits at the relay store. */
  | 'rate-limits'
  /** T4-D: per-recipient quota of pending frames and bytes at the relay store. */
  | 'inbox-quota'
  /** T4-D: per-caller and global rate limits on the registry routes (prekey draining, registration floods). */
  | 'registry-rate-limits'
  /** T4-R: envelope receipts before delivery. */
  | 'envelope-receipts';

export const isOn = (disabled: readonly MeshMitigation[] | undefined, m: MeshMitigation): boolean => !(disabled ?? []).includes(m);
