// Proof-of-possession `connect` (AGENTMESH-WIRE-1.0 §12.2 as newer AGT clients send it): `public_key` (base64 Ed25519,
// 32 bytes), `timestamp` (ISO-8601 with offset) and `signature` (base64 Ed25519 over the UTF-8 timestamp). The DID must
// be `did:mesh:` + the first 32 hex characters of SHA-256(public_key), the timestamp within ±300 s, and a proof is
// accepted once. The reason for a refusal goes to the log only (T4-S).
import { sha256Hex } from '../../crypto/sha256-hex';
import type { ReplayWindow } from './replay-window';
import { ed25519Verify } from '../curve-keys';
import type { ConnectFrame } from './agent-frames';

export const CONNECT_PROOF_TOLERANCE_SEC = 300;
const ISO_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export type ConnectProofRefusal = 'incomplete' | 'key-encoding' | 'did-not-derived' | 'timestamp-format' | 'stale' | 'signature' | 'replay';

export type ConnectProofResult =
  | { readonly kind: 'plain' }
  | { readonly kind: 'proven'; readonly publicKey: Uint8Array }
  | { readonly kind: 'refused'; readonly reason: ConnectProofRefusal };

/** `did:mesh:<first 32 hex of sha256(key)>`: the DID form AGT's relay and registry derive from an Ed25519 key. */
export function didMeshOf(publicKey: Uint8Array): string {
  return `did:mesh:${sha256Hex(publicKey).slice(0, 32)}`;
}

/** Standard or URL-safe base64, padded or not (clients differ); undefined when it is neither or has the wrong length. */
function decodeAnyBase64(text: string, bytes: number): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const out = new Uint8Array(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  return out.length === bytes ? out : undefined;
}

/**
 * Checks a `connect` frame. A frame without any proof field is the plain 4.x form; a frame with any of them must carry
 * all three and verify (with `verify` false, the attack tests' switch, a present proof is taken as it is).
 */
export function checkConnectProof(frame: ConnectFrame, nowMs: number, replay: ReplayWindow, verify = true, toleranceSec = CONNECT_PROOF_TOLERANCE_SEC): ConnectProofResult {
  const { public_key: pk, timestamp: ts, signature: sig } = frame;
  if (pk === undefined && ts === undefined && sig === undefined) return { kind: 'plain' };
  if (pk === undefined || ts === undefined || sig === undefined) return verify ? { kind: 'refused', reason: 'incomplete' } : { kind: 'plain' };
  const publicKey = decodeAnyBase64(pk, 32);
  if (!verify) return publicKey ? { kind: 'proven', publicKey } : { kind: 'plain' };
  if (!publicKey) return { kind: 'refused', reason: 'key-encoding' };
  if (frame.from !== didMeshOf(publicKey)) return { kind: 'refused', reason: 'did-not-derived' };
  const atMs = ISO_TS_RE.test(ts) ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(atMs)) return { kind: 'refused', reason: 'timestamp-format' };
  if (Math.abs(nowMs - atMs) > toleranceSec * 1000) return { kind: 'refused', reason: 'stale' };
  const signature = decodeAnyBase64(sig, 64);
  if (!signature || !ed25519Verify(publicKey, new TextEncoder().encode(ts), signature)) return { kind: 'refused', reason: 'signature' };
  // Kept past the far edge of the window, so the same proof can never be fresh again.
  if (!replay.claim(`connect:${frame.from}:${sig}`, atMs + toleranceSec * 1000 + 60_000, nowMs)) return { kind: 'refused', reason: 'replay' };
  return { kind: 'proven', publicKey };
}
