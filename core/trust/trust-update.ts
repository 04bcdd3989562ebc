// T4-E: the shape of a signed trust update (one zod schema per input). A payload names its tenant, its issuer's
// public key, when it was issued and a nonce; the signature covers all of it (core/trust/trust-signature.ts).
import { z } from 'zod';
import { ENTITY_ID_RE } from '../edge/edge-ids';
import { TRUST_SIGNAL_KINDS } from './apply-signal';

/** DIDs (W3C DID Core §3.1, restricted): short enough to be a Service Bus session id (≤ 128 characters). */
export const DID_RE = /^did:[a-z0-9]{1,16}:[A-Za-z0-9._:%-]{1,100}$/;
export const isDid = (value: unknown): value is string => typeof value === 'string' && DID_RE.test(value);

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Raw 32-byte Ed25519 public key, base64url without padding (43 characters). */
export const ISSUER_KEY_RE = /^[A-Za-z0-9_-]{43}$/;
// 32 signed updates (~400 bytes each) stay under the 16 KiB operator body cap (functions/hooks/read-admin-json.ts).
export const MAX_TRUST_BATCH = 32;

export const trustSignalUpdateSchema = z.strictObject({
  type: z.literal('signal'),
  observer: z.string().regex(ENTITY_ID_RE),
  subject: z.string().regex(DID_RE),
  kind: z.enum(TRUST_SIGNAL_KINDS),
  // Any integer is accepted here; core clamps it to ±200 (a refusal would hide what the issuer asked for).
  delta: z.number().int().safe().optional(),
});

export const trustEdgeUpdateSchema = z.strictObject({
  type: z.literal('edge'),
  from: z.string().regex(DID_RE),
  to: z.string().regex(DID_RE),
  weight: z.number().int().min(0).max(1000),
});

export const trustPayloadSchema = z.strictObject({
  v: z.literal(1),
  tenantId: z.string().regex(ENTITY_ID_RE),
  issuer: z.string().regex(ISSUER_KEY_RE),
  issuedAtSec: z.number().int().min(0).max(2 ** 40),
  nonce: z.string().min(16).max(64).regex(BASE64URL),
  update: z.discriminatedUnion('type', [trustSignalUpdateSchema, trustEdgeUpdateSchema]),
});

/** The signature stays optional in the schema so an unsigned update is refused as TRUST_SIGNATURE_INVALID, audited. */
export const signedTrustUpdateSchema = z.strictObject({
  payload: trustPayloadSchema,
  signature: z.string().max(128).optional(),
});

export const trustBatchSchema = z.strictObject({
  updates: z.array(signedTrustUpdateSchema).min(1).max(MAX_TRUST_BATCH),
});

export type TrustSignalUpdate = z.infer<typeof trustSignalUpdateSchema>;
export type TrustEdgeUpdate = z.infer<typeof trustEdgeUpdateSchema>;
export type TrustPayload = z.infer<typeof trustPayloadSchema>;
export type SignedTrustUpdate = z.infer<typeof signedTrustUpdateSchema>;
export type TrustBatch = z.infer<typeof trustBatchSchema>;

/** The DID an update changes: its session key on the bus, so one subject's updates apply in order. */
export function trustUpdateSubject(update: TrustPayload['update']): string {
  return update.type === 'signal' ? update.subject : update.to;
}

/** Body cap of the trust routes (a batch of ≤ 32 signed updates fits with room to spare); T1-T, T1-D. */
export const TRUST_MAX_BODY_BYTES = 16 * 1024;
