// T4-S: KNOCK, knock_accept and knock_reject signed with the sender's Ed25519 identity key (wire spec §10.1–10.3
// "signature"). The signed bytes are a domain label and the canonical JSON of a fixed field list per frame type, so a
// relay or router may add fields (e.g. a countersignature) without breaking the agent's signature, and a signature
// made for one frame type or protocol can never verify as another.
import { canonicalJson } from '../audit/canonical-json';
import { abytes } from '../crypto/assert';
import { constantTimeEqual } from '../crypto/constant-time-equal';
import { decodeBase64Strict, utf8ToBytes } from '../crypto/strict-encoding';
import { fail, ok, type Result } from '../errors';
import { ed25519PublicToX25519, ed25519Sign, ed25519Verify } from './curve-keys';

export const KNOCK_SIGNATURE_DOMAIN = 'kars-mesh/knock-signature/v1\n';

/** Fields each frame type signs (wire spec §10); absent optional fields are left out of the encoding. */
export const KNOCK_SIGNED_FIELDS = {
  knock: ['v', 'type', 'from', 'to', 'id', 'ts', 'intent', 'establishment'],
  knock_accept: ['v', 'type', 'from', 'to', 'id', 'ts', 'knock_id', 'conditions'],
  knock_reject: ['v', 'type', 'from', 'to', 'id', 'ts', 'knock_id', 'reason'],
} as const;
export type KnockFrameType = keyof typeof KNOCK_SIGNED_FIELDS;

const REQUIRED = ['v', 'type', 'from', 'to', 'id', 'ts'] as const;
const SIGNATURE_RE = /^[A-Za-z0-9_-]{86}$/;
const ISO_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
export const DEFAULT_KNOCK_TOLERANCE_SEC = 300;

export type KnockFrame = Record<string, unknown> & { type: KnockFrameType };

/**
 * The bytes a KNOCK-family frame's signature covers: DOMAIN ‖ canonicalJson(signed fields).
 * @returns MESH_FRAME_INVALID when the type is not a KNOCK type, a required field is missing, or a value has no
 * canonical encoding (floats, non-plain objects)
 */
export function knockSigningBytes(frame: unknown): Result<Uint8Array> {
  if (typeof frame !== 'object' || frame === null) return fail('MESH_FRAME_INVALID', 'frame missing');
  const f = frame as Record<string, unknown>;
  const type = f.type;
  if (typeof type !== 'string' || !Object.hasOwn(KNOCK_SIGNED_FIELDS, type)) return fail('MESH_FRAME_INVALID', 'not a knock, knock_accept or knock_reject frame');
  if (f.v !== 1) return fail('MESH_FRAME_INVALID', 'frame version must be 1');
  for (const k of REQUIRED.slice(2)) if (typeof f[k] !== 'string' || f[k] === '') return fail('MESH_FRAME_INVALID', `frame field ${k} must be a non-empty string`);
  const picked: Record<string, unknown> = {};
  for (const k of KNOCK_SIGNED_FIELDS[type as KnockFrameType]) if (Object.hasOwn(f, k) && f[k] !== undefined) picked[k] = f[k];
  try {
    return ok(utf8ToBytes(KNOCK_SIGNATURE_DOMAIN + canonicalJson(picked)));
  } catch {
    return fail('MESH_FRAME_INVALID', 'frame has a value without a canonical encoding');
  }
}

/**
 * Returns a copy of `frame` with `signature` (base64url, unpadded, as wire spec §10 writes it) over
 * {@link knockSigningBytes}.
 * @throws {TypeError|RangeError} when `identitySeed` is not 32 bytes
 * @returns MESH_FRAME_INVALID as {@link knockSigningBytes}
 */
export function signKnockFrame<T extends Record<string, unknown>>(identitySeed: Uint8Array, frame: T): Result<T & { signature: string }> {
  abytes(identitySeed, 32, 'identitySeed');
  const bytes = knockSigningBytes(frame);
  if (!bytes.ok) return bytes;
  const signature = Buffer.from(ed25519Sign(identitySeed, bytes.value)).toString('base64url');
  return ok({ ...frame, signature });
}

export interface VerifyKnockOptions {
  /** Current time; with it, `ts` must lie within ±toleranceSec. */
  readonly nowMs?: number;
  /** Default {@link DEFAULT_KNOCK_TOLERANCE_SEC}. */
  readonly toleranceSec?: number;
}

/**
 * Verifies a KNOCK-family frame against the sender's Ed25519 identity key (from the registry, never from the frame).
 * For a `knock` carrying an X3DH `establishment`, its `ik` must be the X25519 form of that same key, so a valid
 * signature cannot carry someone else's X3DH identity. Every signature failure gives one code and message.
 * @returns MESH_FRAME_INVALID, MESH_KNOCK_SIGNATURE_INVALID or MESH_KNOCK_STALE
 */
export function verifyKnockFrame(frame: unknown, senderIdentityKeyEd: Uint8Array, options?: VerifyKnockOptions): Result<KnockFrame> {
  abytes(senderIdentityKeyEd, 32, 'senderIdentityKeyEd');
  const bytes = knockSigningBytes(frame);
  if (!bytes.ok) return bytes;
  const f = frame as KnockFrame;
  const refused = fail('MESH_KNOCK_SIGNATURE_INVALID', 'knock signature refused');
  if (typeof f.signature !== 'string' || !SIGNATURE_RE.test(f.signature)) return refused;
  const signature = new Uint8Array(Buffer.from(f.signature, 'base64url'));
  if (signature.length !== 64 || Buffer.from(signature).toString('base64url') !== f.signature) return refused;
  if (!ed25519Verify(senderIdentityKeyEd, bytes.value, signature)) return refused;
  if (f.type === 'knock' && f.establishment !== undefined) {
    const ik = (f.establishment as { ik?: unknown } | null)?.ik;
    const ikBytes = typeof ik === 'string' ? decodeBase64Strict(ik, 32) : undefined;
    const own = ed25519PublicToX25519(senderIdentityKeyEd);
    if (ikBytes === undefined || own === undefined || !constantTimeEqual(ikBytes, own)) return refused;
  }
  if (options?.nowMs !== undefined) {
    const ts = f.ts as string;
    const at = ISO_TS_RE.test(ts) ? Date.parse(ts) : Number.NaN;
    const toleranceMs = (options.toleranceSec ?? DEFAULT_KNOCK_TOLERANCE_SEC) * 1000;
    if (!Number.isFinite(at) || Math.abs(options.nowMs - at) > toleranceMs) return fail('MESH_KNOCK_STALE', 'knock timestamp outside the allowed skew');
  }
  return ok(f);
}
