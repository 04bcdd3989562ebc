// T4-T: the ratchet header and its 40-byte encoding, which the AEAD binds: dh(32) ‖ pn (u32 BE) ‖ n (u32 BE), as the
// AGT SDK serialises it. In memory the fields carry the AGT SDK's names, on the wire dh, pn, n (wire spec §9.3).
import { isBytes } from '../crypto/assert';
import { fail, ok, type Result } from '../errors';

export interface RatchetHeader {
  /** Sender's current ratchet public key (X25519, 32 bytes); `dh` on the wire. */
  readonly dhPublicKey: Uint8Array;
  /** Length of the sender's previous sending chain; `pn` on the wire. */
  readonly previousChainLength: number;
  /** Message number in the current sending chain; `n` on the wire. */
  readonly messageNumber: number;
}

export const RATCHET_HEADER_BYTES = 40;
export const MAX_U32 = 0xffff_ffff;

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_U32;

/** Checks a header from the wire: a 32-byte key and two unsigned 32-bit counters. */
export function checkRatchetHeader(header: unknown): Result<RatchetHeader> {
  if (typeof header !== 'object' || header === null) return fail('MESH_FRAME_INVALID', 'ratchet header missing');
  const { dhPublicKey: dh, previousChainLength: pn, messageNumber: n } = header as Record<string, unknown>;
  if (!isBytes(dh) || dh.length !== 32) return fail('MESH_FRAME_INVALID', 'ratchet header dh must be 32 bytes');
  if (!isU32(pn) || !isU32(n)) return fail('MESH_FRAME_INVALID', 'ratchet header pn and n must be unsigned 32-bit integers');
  return ok({ dhPublicKey: dh, previousChainLength: pn, messageNumber: n });
}

/** The 40 header bytes the AEAD authenticates. Assumes a checked header. */
export function encodeRatchetHeader(header: RatchetHeader): Uint8Array {
  const out = new Uint8Array(RATCHET_HEADER_BYTES);
  out.set(header.dhPublicKey, 0);
  const view = new DataView(out.buffer);
  view.setUint32(32, header.previousChainLength, false);
  view.setUint32(36, header.messageNumber, false);
  return out;
}
