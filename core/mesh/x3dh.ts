// T4-S: X3DH key agreement (Signal X3DH rev 1; AgentMesh wire spec §7) on the AGT SDK's bundle shape. The initiator
// refuses a bundle whose signed prekey is not signed by the bundle's Ed25519 identity key (X3DH §3.3) or whose X25519
// identity key is not that same key converted (a check the AGT SDK leaves out).
import { abytes, isBytes } from '../crypto/assert';
import { concatBytes } from '../crypto/concat-bytes';
import { constantTimeEqual } from '../crypto/constant-time-equal';
import { fail, ok, type Result } from '../errors';
import { ed25519PublicToX25519, ed25519Verify, generateX25519KeyPair, x25519, type X25519KeyPair } from './curve-keys';
import { MESH_SUITES, type MeshSuiteName } from './mesh-suites';
import { MAX_U32 } from './ratchet-header';

/** A published prekey bundle, field for field the AGT SDK's `PreKeyBundle`. */
export interface PrekeyBundle {
  /** X25519 identity key (converted from the Ed25519 one). */
  readonly identityKey: Uint8Array;
  /** Ed25519 identity key; signs the signed prekey. */
  readonly identityKeyEd: Uint8Array;
  readonly signedPreKey: Uint8Array;
  readonly signedPreKeySignature: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKey?: Uint8Array;
  readonly oneTimePreKeyId?: number;
}

/** What the responder needs from the initiator (the AGT SDK's `ChannelEstablishment`; wire spec §9.4 "x3dh"). */
export interface X3dhEstablishment {
  readonly initiatorIdentityKey: Uint8Array;
  readonly ephemeralPublicKey: Uint8Array;
  readonly usedOneTimeKeyId?: number;
}

export interface X3dhResult {
  readonly sharedSecret: Uint8Array;
  /** AD = IK_initiator ‖ IK_responder (X3DH §3.3, wire spec §7.3). */
  readonly associatedData: Uint8Array;
}

const isKeyId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_U32;
const is32 = (v: unknown): v is Uint8Array => isBytes(v) && v.length === 32;

/**
 * Checks a bundle before any DH: lengths, key ids, the signed-prekey signature, and that the X25519 identity key is
 * the Ed25519 identity key's own. Every signature or binding failure gives the same code and message.
 * @returns MESH_FRAME_INVALID (malformed) or MESH_PREKEY_SIGNATURE_INVALID
 */
export function verifyPrekeyBundle(bundle: unknown): Result<PrekeyBundle> {
  if (typeof bundle !== 'object' || bundle === null) return fail('MESH_FRAME_INVALID', 'prekey bundle missing');
  const b = bundle as Record<string, unknown>;
  if (!is32(b.identityKey) || !is32(b.identityKeyEd) || !is32(b.signedPreKey)) return fail('MESH_FRAME_INVALID', 'prekey bundle keys must be 32 bytes');
  if (!isBytes(b.signedPreKeySignature) || b.signedPreKeySignature.length !== 64) return fail('MESH_FRAME_INVALID', 'signed prekey signature must be 64 bytes');
  if (!isKeyId(b.signedPreKeyId)) return fail('MESH_FRAME_INVALID', 'signed prekey id must be an unsigned 32-bit integer');
  const hasOtk = b.oneTimePreKey !== undefined && b.oneTimePreKey !== null;
  if (hasOtk && (!is32(b.oneTimePreKey) || !isKeyId(b.oneTimePreKeyId))) return fail('MESH_FRAME_INVALID', 'one-time prekey must be 32 bytes with an unsigned 32-bit id');
  const refused = fail('MESH_PREKEY_SIGNATURE_INVALID', 'prekey bundle refused');
  if (!ed25519Verify(b.identityKeyEd, b.signedPreKey, b.signedPreKeySignature)) return refused;
  const converted = ed25519PublicToX25519(b.identityKeyEd);
  if (converted === undefined || !constantTimeEqual(converted, b.identityKey)) return refused;
  return ok({
    identityKey: b.identityKey,
    identityKeyEd: b.identityKeyEd,
    signedPreKey: b.signedPreKey,
    signedPreKeySignature: b.signedPreKeySignature,
    signedPreKeyId: b.signedPreKeyId,
    ...(hasOtk ? { oneTimePreKey: b.oneTimePreKey as Uint8Array, oneTimePreKeyId: b.oneTimePreKeyId as number } : {}),
  });
}

/**
 * Initiator side (X3DH §3.3): verifies the bundle, then DH1..DH4 with a fresh ephemeral key.
 * @returns MESH_FRAME_INVALID / MESH_PREKEY_SIGNATURE_INVALID from {@link verifyPrekeyBundle}, or MESH_FRAME_INVALID
 * when a bundle key is of small order
 */
export function x3dhInitiate(suite: MeshSuiteName, identity: X25519KeyPair, bundle: unknown): Result<X3dhResult & { establishment: X3dhEstablishment; bundle: PrekeyBundle }> {
  abytes(identity.privateKey, 32, 'identity.privateKey');
  abytes(identity.publicKey, 32, 'identity.publicKey');
  const verified = verifyPrekeyBundle(bundle);
  if (!verified.ok) return verified;
  const b = verified.value;
  const ephemeral = generateX25519KeyPair();
  let dh: Uint8Array;
  try {
    dh = concatBytes(
      x25519(identity.privateKey, b.signedPreKey),
      x25519(ephemeral.privateKey, b.identityKey),
      x25519(ephemeral.privateKey, b.signedPreKey),
      ...(b.oneTimePreKey ? [x25519(ephemeral.privateKey, b.oneTimePreKey)] : []),
    );
  } catch {
    return fail('MESH_FRAME_INVALID', 'prekey bundle key refused');
  }
  const sharedSecret = MESH_SUITES[suite].x3dhKdf(dh);
  dh.fill(0);
  ephemeral.privateKey.fill(0);
  return ok({
    sharedSecret,
    associatedData: concatBytes(identity.publicKey, b.identityKey),
    establishment: {
      initiatorIdentityKey: Uint8Array.from(identity.publicKey),
      ephemeralPublicKey: ephemeral.publicKey,
      ...(b.oneTimePreKey ? { usedOneTimeKeyId: b.oneTimePreKeyId! } : {}),
    },
    bundle: b,
  });
}

/**
 * Responder side (X3DH §3.4) with the key pairs the establishment names; the caller looks the one-time prekey up and
 * deletes it (X3DH §3.4: "Bob deletes any one-time prekey private key that was used").
 * @returns MESH_FRAME_INVALID for malformed or small-order establishment keys
 */
export function x3dhRespond(
  suite: MeshSuiteName,
  identity: X25519KeyPair,
  signedPrekey: X25519KeyPair,
  oneTimePrekey: X25519KeyPair | undefined,
  establishment: X3dhEstablishment,
): Result<X3dhResult> {
  if (!is32(establishment?.initiatorIdentityKey) || !is32(establishment.ephemeralPublicKey)) return fail('MESH_FRAME_INVALID', 'establishment keys must be 32 bytes');
  const { initiatorIdentityKey: ik, ephemeralPublicKey: ek } = establishment;
  let dh: Uint8Array;
  try {
    dh = concatBytes(
      x25519(signedPrekey.privateKey, ik),
      x25519(identity.privateKey, ek),
      x25519(signedPrekey.privateKey, ek),
      ...(oneTimePrekey ? [x25519(oneTimePrekey.privateKey, ek)] : []),
    );
  } catch {
    return fail('MESH_FRAME_INVALID', 'establishment key refused');
  }
  const sharedSecret = MESH_SUITES[suite].x3dhKdf(dh);
  dh.fill(0);
  return ok({ sharedSecret, associatedData: concatBytes(ik, identity.publicKey) });
}
