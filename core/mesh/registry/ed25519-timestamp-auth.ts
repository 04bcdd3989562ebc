// The registry's `Authorization: Ed25519-Timestamp <did> <iso8601> <base64url(sig)>` (AGENTMESH-WIRE-1.0 §13.1):
// sig = Ed25519(identity key, utf8(timestamp)); the timestamp must lie within ±tolerance of now (T4-S, registry half).
// The signed text is only a timestamp, so a captured header is replayable inside the window: callers claim
// `replayKey` in a shared replay store (core/ports/replay-guard.port.ts).
import { fail, ok, type Result } from '../../errors';
import { decodeBase64UrlStrict } from './base64url';
import { verifyEd25519 } from './verify-ed25519';

export const ED25519_TIMESTAMP_SCHEME = 'Ed25519-Timestamp';
export const DEFAULT_AUTH_TOLERANCE_SEC = 300;

export interface Ed25519TimestampAuth {
  readonly did: string;
  readonly timestamp: string;
  readonly atMs: number;
  readonly signature: Uint8Array;
}

/** Why a header was refused: for the audit log only; the caller answers one generic 401. */
export type AuthRefusal = 'malformed' | 'skew' | 'signature' | 'replay' | 'unknown-did' | 'did-mismatch';

// ISO 8601 with an explicit zone, as the AGT clients send (`new Date().toISOString()`, Python isoformat()).
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const DID_RE = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]{1,200}$/;

export function parseEd25519TimestampHeader(value: string | null | undefined): Result<Ed25519TimestampAuth, AuthRefusal> {
  if (typeof value !== 'string' || value.length > 512) return fail('malformed', 'missing or oversized header');
  const parts = value.split(' ');
  if (parts.length !== 4 || parts[0] !== ED25519_TIMESTAMP_SCHEME) return fail('malformed', 'not Ed25519-Timestamp');
  const [, did, timestamp, sig] = parts as [string, string, string, string];
  if (!DID_RE.test(did) || !ISO_RE.test(timestamp)) return fail('malformed', 'bad did or timestamp');
  const atMs = Date.parse(timestamp);
  const signature = decodeBase64UrlStrict(sig, 64);
  if (!Number.isFinite(atMs) || !signature) return fail('malformed', 'bad timestamp or signature encoding');
  return ok({ did, timestamp, atMs, signature });
}

/** Freshness then signature; replay is the caller's (it needs the shared store). */
export function checkEd25519Timestamp(
  auth: Ed25519TimestampAuth, publicKey: Uint8Array, nowMs: number, toleranceSec = DEFAULT_AUTH_TOLERANCE_SEC,
): Result<void, AuthRefusal> {
  if (Math.abs(nowMs - auth.atMs) > toleranceSec * 1000) return fail('skew', 'timestamp outside the window');
  if (!verifyEd25519(publicKey, new TextEncoder().encode(auth.timestamp), auth.signature)) return fail('signature', 'bad signature');
  return ok(undefined);
}

/** Replay-store key of a header: the DID and the exact signed timestamp (Ed25519 signatures are deterministic). */
export function authReplayKey(auth: Ed25519TimestampAuth): string {
  return `mesh-auth\n${auth.did}\n${auth.timestamp}`;
}
