// T4-T: mitigation switches of the mesh crypto, for attack tests only.

/**
 * Mitigations a test can switch off to show its attack then succeeds. Reachable only through a session's
 * `_disable` option, which no configuration loader sets.
 * - `aead-tag`: open ciphertexts without checking the Poly1305 tag (T4-T).
 */
export const MESH_MITIGATIONS = ['aead-tag'] as const;
export type MeshMitigation = (typeof MESH_MITIGATIONS)[number];
