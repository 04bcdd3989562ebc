// The frames an agent sends to its router's `/agt/relay` socket (AGENTMESH-WIRE-1.0 §9.2, §12; the AGT 4.x
// MeshClient's shapes), one zod schema each. Relayed types keep their opaque fields (ciphertext, header, intent,
// establishment, signature) for the peer; the router reads only the outer ones.
import { z } from 'zod';
import { RELAYED_FRAME_TYPES } from '../relay/relay-frame';

export const BRIDGE_DID_RE = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]{1,200}$/;
const did = z.string().regex(BRIDGE_DID_RE);
export const FRAME_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const frameId = z.string().regex(FRAME_ID_RE);
/** Largest frame the socket takes (the relay store's own cap, functions/mesh/mesh-routes.ts RELAY_MAX_FRAME_BYTES). */
export const MAX_AGENT_FRAME_BYTES = 256 * 1024;

/** `connect`: plain (4.x: identity rests on the router's binding) or with proof of possession (wire spec §12.2). */
export const connectFrameSchema = z.looseObject({
  v: z.literal(1),
  type: z.literal('connect'),
  from: did,
  public_key: z.string().max(64).optional(),
  timestamp: z.string().max(64).optional(),
  signature: z.string().max(128).optional(),
});
export type ConnectFrame = z.infer<typeof connectFrameSchema>;

export const relayedFrameSchema = z.looseObject({
  v: z.literal(1),
  type: z.enum(RELAYED_FRAME_TYPES),
  from: did,
  to: did,
  id: frameId,
  ts: z.string().max(64).optional(),
  plaintext: z.boolean().optional(),
});
export type RelayedAgentFrame = z.infer<typeof relayedFrameSchema>;

const controlFrameSchema = z.discriminatedUnion('type', [
  z.looseObject({ v: z.literal(1), type: z.literal('ack'), id: frameId }),
  z.looseObject({ v: z.literal(1), type: z.literal('fetch_pending'), from: did.optional() }),
  z.looseObject({ v: z.literal(1), type: z.literal('heartbeat'), from: did.optional() }),
  z.looseObject({ v: z.literal(1), type: z.literal('disconnect'), from: did.optional() }),
]);

export type AgentFrame =
  | { kind: 'connect'; frame: ConnectFrame }
  | { kind: 'relayed'; frame: RelayedAgentFrame }
  | { kind: 'ack'; id: string }
  | { kind: 'fetch_pending' }
  | { kind: 'heartbeat' }
  | { kind: 'disconnect' };

/** Parses one text frame from the agent. Never echoes values: the message names the failing fields only. */
export function parseAgentFrame(text: string): { ok: true; value: AgentFrame } | { ok: false; message: string } {
  if (text.length > MAX_AGENT_FRAME_BYTES) return { ok: false, message: 'frame too large' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: 'frame is not JSON' };
  }
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (type === 'connect') {
    const p = connectFrameSchema.safeParse(raw);
    return p.success ? { ok: true, value: { kind: 'connect', frame: p.data } } : invalid(p.error);
  }
  if (typeof type === 'string' && (RELAYED_FRAME_TYPES as readonly string[]).includes(type)) {
    const p = relayedFrameSchema.safeParse(raw);
    return p.success ? { ok: true, value: { kind: 'relayed', frame: p.data } } : invalid(p.error);
  }
  const p = controlFrameSchema.safeParse(raw);
  if (!p.success) return invalid(p.error);
  const f = p.data;
  return { ok: true, value: f.type === 'ack' ? { kind: 'ack', id: f.id } : { kind: f.type } };
}

function invalid(error: z.ZodError): { ok: false; message: string } {
  const fields = [...new Set(error.issues.map((i) => i.path.join('.') || 'type'))].join(', ');
  return { ok: false, message: `invalid frame: ${fields}` };
}
