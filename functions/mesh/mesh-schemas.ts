// One zod schema per mesh input (AGENTMESH-WIRE-1.0 §11 registry bodies as the AGT 4.x RegistryClient sends them,
// §9 frames as routers post them). Strict everywhere: frames carry exactly the wire's fields, each bounded, and the
// relay stores them as received for the recipient.
import { z } from 'zod';
import { MAX_ONE_TIME_PREKEYS } from '../../core/mesh/registry/prekey-bundle';
import { MESH_SUITE_NAMES } from '../../core/mesh/mesh-suites';

export const DID_RE = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]{1,200}$/;
const did = z.string().regex(DID_RE);
const b64url = z.string().max(128).regex(/^[A-Za-z0-9_-]*$/);
const keyId = z.number().int().min(0).max(2 ** 32 - 1);
const MESSAGE_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** Base64 characters of a sealed payload that fits the relay's 256 KiB frame cap. */
const RELAY_MAX_CIPHERTEXT_CHARS = 256 * 1024;

export const didParamSchema = z.strictObject({ did });

export const registerAgentSchema = z.strictObject({
  did,
  public_key: b64url,
  capabilities: z.array(z.string().min(1).max(128)).max(32).default([]),
  metadata: z.record(z.string().max(64), z.string().max(512)).refine((m) => Object.keys(m).length <= 32, 'at most 32 entries').default({}),
});

export const prekeyUploadSchema = z.strictObject({
  identity_key: b64url,
  identity_key_ed: b64url,
  signed_pre_key: z.strictObject({ key_id: keyId, public_key: b64url, signature: b64url }),
  one_time_pre_keys: z.array(z.strictObject({ key_id: keyId, public_key: b64url })).max(MAX_ONE_TIME_PREKEYS).default([]),
});

export const discoverQuerySchema = z.strictObject({
  capability: z.string().min(1).max(128),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

// Relay frames (§9.2–9.4, §10): one strict shape per type, so a router can store nothing but the fields the wire
// defines, each bounded: ids, timestamps, base64 of the right lengths (the AGT client writes standard padded base64;
// signatures per §10 are base64url), and small JSON objects for intent and conditions. Anything else is INPUT_INVALID.
const ISO_TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const messageId = z.string().regex(MESSAGE_ID_RE);
const isoTs = z.string().max(40).regex(ISO_TS_RE);
const u32 = z.number().int().min(0).max(2 ** 32 - 1);
/** Standard base64 of exactly 32 bytes (an X25519 public key). */
const b64Key32 = z.string().regex(/^[A-Za-z0-9+/]{43}=$/);
/** Standard padded base64 of at most the relay's frame cap. */
const b64Sealed = z.string().min(4).max(RELAY_MAX_CIPHERTEXT_CHARS).regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/);
/** An Ed25519 signature (64 bytes): base64url unpadded (§10) or standard padded. */
const signature64 = z.string().regex(/^(?:[A-Za-z0-9_-]{86}|[A-Za-z0-9+/]{86}==)$/);
/** A small JSON object (intent, conditions): at most 32 keys and 4 KiB encoded. */
const smallObject = z.record(z.string().min(1).max(64), z.json())
  .refine((o) => Object.keys(o).length <= 32 && JSON.stringify(o).length <= 4096, 'at most 32 keys and 4 KiB');
/**
 * The sending router's countersignature slot on KNOCK-family frames (ARCHITECTURE §4): opaque here, bounded; the
 * receiving router verifies it.
 */
const countersignature = z.record(z.string().min(1).max(64), z.string().max(512)).refine((o) => Object.keys(o).length <= 8, 'at most 8 fields');

const frameBase = { v: z.literal(1), from: did, to: did, id: messageId, ts: isoTs };

const messageFrame = z.strictObject({
  ...frameBase,
  type: z.literal('message'),
  header: z.strictObject({ dh: b64Key32, pn: u32, n: u32 }),
  ciphertext: b64Sealed,
  /** §9.4 first message: the X3DH data. */
  x3dh: z.strictObject({ identity_key: b64Key32, ephemeral_key: b64Key32, used_opk_id: u32.optional() }).optional(),
  plaintext: z.literal(false).optional(),
});

/** The 4.x client's legacy plaintext frame: accepted by the schema only so the relay core refuses it with its code (T4-I). */
const plaintextMessageFrame = z.strictObject({
  ...frameBase,
  type: z.literal('message'),
  ciphertext: z.string().max(RELAY_MAX_CIPHERTEXT_CHARS),
  plaintext: z.literal(true),
});

const knockFrame = z.strictObject({
  ...frameBase,
  type: z.literal('knock'),
  intent: smallObject,
  establishment: z.strictObject({ ik: b64Key32, ek: b64Key32, otk: u32.nullable().optional(), suite: z.enum(MESH_SUITE_NAMES).optional() }).optional(),
  signature: signature64.optional(),
  countersignature: countersignature.optional(),
});

const knockAcceptFrame = z.strictObject({
  ...frameBase,
  type: z.literal('knock_accept'),
  knock_id: messageId,
  conditions: smallObject.optional(),
  signature: signature64.optional(),
  countersignature: countersignature.optional(),
});

const knockRejectFrame = z.strictObject({
  ...frameBase,
  type: z.literal('knock_reject'),
  knock_id: messageId,
  reason: z.string().min(1).max(256),
  signature: signature64.optional(),
  countersignature: countersignature.optional(),
});

export const relayFrameSchema = z.union([messageFrame, plaintextMessageFrame, knockFrame, knockAcceptFrame, knockRejectFrame]);

export const fetchPendingSchema = z.strictObject({ did, max: z.number().int().min(1).max(100).default(100) });

export const ackSchema = z.strictObject({ did, ids: z.array(z.string().regex(MESSAGE_ID_RE)).min(1).max(100) });
