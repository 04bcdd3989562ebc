// One zod schema per mesh input (AGENTMESH-WIRE-1.0 §11 registry bodies as the AGT 4.x RegistryClient sends them,
// §9 frames as routers post them). Strict where we own the shape; frames keep their opaque fields (ciphertext,
// header, x3dh, intent, establishment, signature) for the recipient.
import { z } from 'zod';
import { MAX_ONE_TIME_PREKEYS } from '../../core/mesh/registry/prekey-bundle';
import { RELAYED_FRAME_TYPES } from '../../core/mesh/relay/relay-frame';

export const DID_RE = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]{1,200}$/;
const did = z.string().regex(DID_RE);
const b64url = z.string().max(128).regex(/^[A-Za-z0-9_-]*$/);
const keyId = z.number().int().min(0).max(2 ** 32 - 1);
const MESSAGE_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

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

export const relayFrameSchema = z.looseObject({
  v: z.literal(1),
  type: z.enum(RELAYED_FRAME_TYPES),
  from: did,
  to: did,
  id: z.string().regex(MESSAGE_ID_RE),
  ts: z.string().max(64).optional(),
  // Accepted by the schema so the relay core can refuse it with its own code (T4-I).
  plaintext: z.boolean().optional(),
});

export const fetchPendingSchema = z.strictObject({ did, max: z.number().int().min(1).max(100).default(100) });

export const ackSchema = z.strictObject({ did, ids: z.array(z.string().regex(MESSAGE_ID_RE)).min(1).max(100) });
