// T4-T: the two cipher suites of our mesh client. `chacha20poly1305` is the AGT wire as @microsoft/agent-governance-sdk
// 4.0.0 implements it, byte for byte, so a kars agent talks end to end with an unmodified AGT agent;
// `xsalsa20poly1305` (the default) is the threat model's AEAD with Signal-spec X3DH inputs and our own KDF labels.
import { concatBytes } from '../crypto/concat-bytes';
import { hkdfSha256 } from './ratchet-kdf';
import { openChaCha20Poly1305, sealChaCha20Poly1305 } from './aead-chacha20poly1305';
import { openXSalsa20Poly1305, sealXSalsa20Poly1305 } from './aead-xsalsa20poly1305';

export const MESH_SUITE_NAMES = ['xsalsa20poly1305', 'chacha20poly1305'] as const;
export type MeshSuiteName = (typeof MESH_SUITE_NAMES)[number];
export const DEFAULT_MESH_SUITE: MeshSuiteName = 'xsalsa20poly1305';

export interface MeshSuite {
  readonly name: MeshSuiteName;
  /** X3DH SK from DH1 ‖ DH2 ‖ DH3 [‖ DH4]. */
  readonly x3dhKdf: (dhConcat: Uint8Array) => Uint8Array;
  /** HKDF info of KDF_RK. */
  readonly ratchetInfo: Uint8Array;
  readonly seal: (key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) => Uint8Array;
  readonly open: (key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, verifyTag?: boolean) => Uint8Array | undefined;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const FF32 = new Uint8Array(32).fill(0xff);
const ZERO32 = new Uint8Array(32);

// AGT SDK 4.0.0 (dist/encryption/x3dh.js): salt = 0xFF×32 and the bare DH concatenation as IKM. The wire spec (§5.2,
// fixed upstream after 4.0.0) wants F as an IKM prefix and a zero salt; we follow the installed SDK to interoperate.
const AGT_X3DH_INFO = utf8('AgentMesh_X3DH_v1');
const AGT_RATCHET_INFO = utf8('AgentMesh_Ratchet_v1');
// Signal X3DH §2.2: IKM = F ‖ DH…, zero salt. Labels differ from AGT's so a key can never serve both suites.
const KARS_X3DH_INFO = utf8('kars-mesh/x3dh/xsalsa20poly1305/v1');
const KARS_RATCHET_INFO = utf8('kars-mesh/ratchet/xsalsa20poly1305/v1');

export const MESH_SUITES: Readonly<Record<MeshSuiteName, MeshSuite>> = Object.freeze({
  chacha20poly1305: Object.freeze({
    name: 'chacha20poly1305',
    x3dhKdf: (dh: Uint8Array) => hkdfSha256(dh, FF32, AGT_X3DH_INFO, 32),
    ratchetInfo: AGT_RATCHET_INFO,
    seal: sealChaCha20Poly1305,
    open: openChaCha20Poly1305,
  }),
  xsalsa20poly1305: Object.freeze({
    name: 'xsalsa20poly1305',
    x3dhKdf: (dh: Uint8Array) => hkdfSha256(concatBytes(FF32, dh), ZERO32, KARS_X3DH_INFO, 32),
    ratchetInfo: KARS_RATCHET_INFO,
    seal: sealXSalsa20Poly1305,
    open: openXSalsa20Poly1305,
  }),
});

/** True for a suite name this client speaks. */
export function isMeshSuiteName(value: unknown): value is MeshSuiteName {
  return typeof value === 'string' && (MESH_SUITE_NAMES as readonly string[]).includes(value);
}
