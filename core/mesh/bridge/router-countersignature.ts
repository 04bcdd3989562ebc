// T4-S: the sending sandbox's router countersigns every KNOCK, knock_accept and knock_reject its agent sends, with the
// sandbox's Ed25519 key; the receiving router verifies it before its agent sees the frame. The signature covers a
// domain label, the canonical JSON of the whole frame as the agent sent it (its own signature included), the
// sandbox and the router's timestamp, so no field can change, no frame type can pass for another, and the relay store
// (untrusted for content, wire spec §16.1) cannot forge or re-date one.
import { canonicalJson } from '../../audit/canonical-json';
import { ed25519Sign, ed25519Verify } from '../curve-keys';
import { decodeBase64UrlStrict, encodeBase64Url } from '../registry/base64url';

export const COUNTERSIGNATURE_DOMAIN = 'kars-mesh/router-countersignature/v1\n';
/**
 * The frame field the countersignature travels in (the relay store's schema keeps it: string values only); the
 * receiving router strips it before the agent sees the frame.
 */
export const COUNTERSIGNATURE_FIELD = 'countersignature';
export const COUNTERSIGNED_TYPES: ReadonlySet<string> = new Set(['knock', 'knock_accept', 'knock_reject']);
export const SANDBOX_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface Countersignature {
  v: '1';
  sandbox: string;
  /** Router clock, ms since the epoch, as decimal digits. */
  at: string;
  /** base64url Ed25519 signature. */
  sig: string;
}

/** Countersignature time in ms. */
export const countersignedAtMs = (c: Countersignature): number => Number(c.at);

/** The sandbox's signing key: the private half never leaves the router process. */
export interface SandboxSigner {
  readonly sandboxId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function sandboxSignerFromSeed(sandboxId: string, seed: Uint8Array, publicKey: Uint8Array): SandboxSigner {
  return { sandboxId, publicKey, sign: (m) => ed25519Sign(seed, m) };
}

const withoutCountersignature = (frame: Record<string, unknown>): Record<string, unknown> => {
  const { [COUNTERSIGNATURE_FIELD]: _omit, ...rest } = frame;
  return rest;
};

/** @throws KarsError INPUT_INVALID when the frame holds a value without a canonical encoding (a float, say) */
export function countersignatureBytes(frame: Record<string, unknown>, sandbox: string, at: string): Uint8Array {
  return new TextEncoder().encode(COUNTERSIGNATURE_DOMAIN + canonicalJson({ frame: withoutCountersignature(frame), sandbox, at }));
}

/** The frame with the router's countersignature added (any earlier one replaced). */
export function countersign<T extends Record<string, unknown>>(frame: T, signer: SandboxSigner, nowMs: number): T & { [COUNTERSIGNATURE_FIELD]: Countersignature } {
  const at = String(Math.floor(nowMs));
  const sig = encodeBase64Url(signer.sign(countersignatureBytes(frame, signer.sandboxId, at)));
  return { ...withoutCountersignature(frame), [COUNTERSIGNATURE_FIELD]: { v: '1', sandbox: signer.sandboxId, at, sig } } as T & { [COUNTERSIGNATURE_FIELD]: Countersignature };
}

/** The countersignature a frame carries, if it has the right shape. */
export function readCountersignature(frame: Record<string, unknown>): Countersignature | undefined {
  const c = frame[COUNTERSIGNATURE_FIELD];
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return undefined;
  const { v, sandbox, at, sig } = c as Record<string, unknown>;
  if (v !== '1' || typeof sandbox !== 'string' || !SANDBOX_RE.test(sandbox) || typeof at !== 'string' || !/^\d{1,15}$/.test(at) || typeof sig !== 'string') return undefined;
  return { v: '1', sandbox, at, sig };
}

/** True when `c` verifies over `frame` under `publicKey`; false for any malformed part (no oracle). */
export function verifyCountersignature(frame: Record<string, unknown>, c: Countersignature, publicKey: Uint8Array): boolean {
  const sig = decodeBase64UrlStrict(c.sig, 64);
  if (!sig || publicKey.length !== 32) return false;
  let bytes: Uint8Array;
  try {
    bytes = countersignatureBytes(frame, c.sandbox, c.at);
  } catch {
    return false;
  }
  return ed25519Verify(publicKey, bytes, sig);
}

export { withoutCountersignature };
