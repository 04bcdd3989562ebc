// T4-T/T4-I: AgentMesh JSON frames (wire spec §9.3, §9.4, §10.1) for our session: message frames with the ratchet
// header, and the X3DH establishment in the AGT MeshClient's KNOCK form ({ik, ek, otk}) or the spec's first-message
// form (x3dh: {identity_key, ephemeral_key, used_opk_id}). Base64 is standard and padded, as the AGT client writes it,
// and decoded strictly. A `plaintext: true` frame is refused: there is no plaintext fallback.
import { bytesToBase64, decodeBase64Strict } from '../../core/crypto/strict-encoding';
import { fail, ok, type Result } from '../../core/errors';
import { signKnockFrame } from '../../core/mesh/knock-signature';
import { isMeshSuiteName, type MeshSuiteName } from '../../core/mesh/mesh-suites';
import type { RatchetMessage } from '../../core/mesh/ratchet';
import { MAX_U32 } from '../../core/mesh/ratchet-header';
import type { X3dhEstablishment } from '../../core/mesh/x3dh';
import type { MeshKeyManager } from './mesh-key-manager';

/** Default cap on a message's sealed bytes (before base64). */
export const DEFAULT_MAX_CIPHERTEXT_BYTES = 1024 * 1024;

export interface MessageFrameFields {
  readonly from: string;
  readonly to: string;
  readonly id: string;
  readonly ts: string;
}

export interface DecodedMessageFrame extends MessageFrameFields {
  readonly message: RatchetMessage;
  /** Present on a first message that carries the X3DH data (wire spec §9.4). */
  readonly x3dh?: X3dhEstablishment;
}

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_U32;
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 512;

/** The wire frame of one ratchet message. */
export function encodeMessageFrame(fields: MessageFrameFields, message: RatchetMessage, x3dh?: X3dhEstablishment): Record<string, unknown> {
  return {
    v: 1,
    type: 'message',
    ...fields,
    ...(x3dh ? { x3dh: { identity_key: bytesToBase64(x3dh.initiatorIdentityKey), ephemeral_key: bytesToBase64(x3dh.ephemeralPublicKey), ...(x3dh.usedOneTimeKeyId !== undefined ? { used_opk_id: x3dh.usedOneTimeKeyId } : {}) } } : {}),
    header: { dh: bytesToBase64(message.header.dhPublicKey), pn: message.header.previousChainLength, n: message.header.messageNumber },
    ciphertext: bytesToBase64(message.ciphertext),
  };
}

/**
 * Parses a `message` frame. @returns MESH_FRAME_INVALID for anything malformed, oversized or marked plaintext
 */
export function decodeMessageFrame(frame: unknown, maxCiphertextBytes = DEFAULT_MAX_CIPHERTEXT_BYTES): Result<DecodedMessageFrame> {
  if (typeof frame !== 'object' || frame === null) return fail('MESH_FRAME_INVALID', 'frame missing');
  const f = frame as Record<string, unknown>;
  if (f.v !== 1 || f.type !== 'message') return fail('MESH_FRAME_INVALID', 'not a v1 message frame');
  if (f.plaintext !== undefined && f.plaintext !== false) return fail('MESH_FRAME_INVALID', 'plaintext frames are refused');
  if (!nonEmpty(f.from) || !nonEmpty(f.to) || !nonEmpty(f.id) || !nonEmpty(f.ts)) return fail('MESH_FRAME_INVALID', 'from, to, id and ts must be non-empty strings');
  const h = f.header as Record<string, unknown> | null | undefined;
  const dh = typeof h?.dh === 'string' ? decodeBase64Strict(h.dh, 32) : undefined;
  if (dh === undefined || !isU32(h?.pn) || !isU32(h?.n)) return fail('MESH_FRAME_INVALID', 'header must be {dh: base64 of 32 bytes, pn, n}');
  if (typeof f.ciphertext !== 'string' || f.ciphertext.length > Math.ceil(maxCiphertextBytes / 3) * 4) return fail('MESH_FRAME_INVALID', 'ciphertext missing or too large');
  const ciphertext = decodeBase64Strict(f.ciphertext);
  if (ciphertext === undefined) return fail('MESH_FRAME_INVALID', 'ciphertext is not base64');
  let x3dh: X3dhEstablishment | undefined;
  if (f.x3dh !== undefined) {
    const x = f.x3dh as Record<string, unknown> | null;
    const e = decodeEstablishment({ ik: x?.identity_key, ek: x?.ephemeral_key, otk: x?.used_opk_id });
    if (!e.ok) return e;
    x3dh = e.value.establishment;
  }
  return ok({ from: f.from, to: f.to, id: f.id, ts: f.ts, message: { header: { dhPublicKey: dh, previousChainLength: h!.pn as number, messageNumber: h!.n as number }, ciphertext }, ...(x3dh ? { x3dh } : {}) });
}

/** The AGT MeshClient's establishment object, with our suite when it is not AGT's. */
export function encodeEstablishment(e: X3dhEstablishment, suite: MeshSuiteName): Record<string, unknown> {
  return {
    ik: bytesToBase64(e.initiatorIdentityKey),
    ek: bytesToBase64(e.ephemeralPublicKey),
    ...(e.usedOneTimeKeyId !== undefined ? { otk: e.usedOneTimeKeyId } : {}),
    ...(suite === 'chacha20poly1305' ? {} : { suite }),
  };
}

/**
 * Parses `{ik, ek, otk?, suite?}`; a missing suite is the AGT wire's (`chacha20poly1305`).
 * @returns MESH_FRAME_INVALID
 */
export function decodeEstablishment(value: unknown): Result<{ establishment: X3dhEstablishment; suite: MeshSuiteName }> {
  if (typeof value !== 'object' || value === null) return fail('MESH_FRAME_INVALID', 'establishment missing');
  const v = value as Record<string, unknown>;
  const ik = typeof v.ik === 'string' ? decodeBase64Strict(v.ik, 32) : undefined;
  const ek = typeof v.ek === 'string' ? decodeBase64Strict(v.ek, 32) : undefined;
  if (ik === undefined || ek === undefined) return fail('MESH_FRAME_INVALID', 'establishment ik and ek must be base64 of 32 bytes');
  if (v.otk !== undefined && v.otk !== null && !isU32(v.otk)) return fail('MESH_FRAME_INVALID', 'establishment otk must be an unsigned 32-bit integer');
  const suite = v.suite ?? 'chacha20poly1305';
  if (!isMeshSuiteName(suite)) return fail('MESH_FRAME_INVALID', 'establishment suite is not supported');
  const otk = isU32(v.otk) ? { usedOneTimeKeyId: v.otk } : {};
  return ok({ establishment: { initiatorIdentityKey: ik, ephemeralPublicKey: ek, ...otk }, suite });
}

export interface KnockFields extends MessageFrameFields {
  readonly intent: Record<string, unknown>;
}

/**
 * A KNOCK carrying the X3DH establishment (as the AGT MeshClient sends it), signed with our identity key.
 * @returns MESH_FRAME_INVALID when the intent has no canonical encoding (e.g. a float)
 */
export function buildSignedKnock(keys: MeshKeyManager, fields: KnockFields, establishment: X3dhEstablishment, suite: MeshSuiteName): Result<Record<string, unknown>> {
  return signKnockFrame(keys.identitySeed, { v: 1, type: 'knock', ...fields, establishment: encodeEstablishment(establishment, suite) });
}
