// Mitigation switches of the router bridge (T4-S, T4-I). Only attack tests set them, through the bridge's `_disable`
// option; no configuration loader reaches it.
export const BRIDGE_MITIGATIONS = [
  /** T4-S: frames and registrations only for the DID bound to this router. */
  'did-binding',
  /** T4-S: incoming KNOCK-family frames need a valid countersignature of the sending sandbox's router. */
  'countersignature',
  /** T4-S: the countersignature's timestamp within ±300 s. */
  'countersignature-freshness',
  /** T4-S: a countersigned frame already delivered is not delivered again. */
  'countersignature-replay',
  /** T4-S: a KNOCK from a sender below the trust threshold is answered with knock_reject by the router. */
  'trust-gate',
  /** T4-S: a proof-of-possession `connect` is verified (key → DID, signature, window, replay). */
  'connect-proof',
  /** T4-I: `plaintext: true` frames refused at the router, both directions. */
  'plaintext-refusal',
] as const;
export type BridgeMitigation = (typeof BRIDGE_MITIGATIONS)[number];

export const bridgeOn = (disabled: readonly BridgeMitigation[] | undefined, m: BridgeMitigation): boolean => !(disabled ?? []).includes(m);
