// The router bridge's settings (T4), parsed once at start-up beside the router's own (router-config.ts). The bridge is
// on when KARS_MESH_FUNCTIONS_URL is set. No key switches a mitigation off; the trust threshold is a policy value
// (0..1000, default 500), not a switch. Values are never printed, only the offending keys.
import { z } from 'zod';
import { KarsError } from '../../../core/errors';
import { BRIDGE_DID_RE } from '../../../core/mesh/bridge/agent-frames';
import { DEFAULT_TRUST_THRESHOLD } from '../../../core/mesh/bridge/inbound-gate';
import { DEFAULT_MESH_QUEUE } from '../../../adapters/mesh/bus-mesh-notifier';
import { isLoopbackUrl } from '../../../adapters/identity/loopback';

const schema = z.object({
  /** The Function app's `/api` root (Front Door in Azure); https, plain http only on loopback. Unset: no bridge. */
  KARS_MESH_FUNCTIONS_URL: z.url().optional(),
  /** The projected service-account token (audience `kars-mesh`) the kubelet keeps fresh. */
  KARS_MESH_ROUTER_TOKEN_FILE: z.string().min(1).default('/var/run/secrets/tokens/kars-mesh-token'),
  /** The sandbox's Ed25519 countersigning key, PKCS#8 PEM (secret volume). */
  KARS_MESH_SANDBOX_KEY_FILE: z.string().min(1).optional(),
  /** The agent DID this sandbox is for; unset: bound at the first registration and kept in KARS_MESH_BINDING_FILE. */
  KARS_MESH_AGENT_DID: z.string().regex(BRIDGE_DID_RE).optional(),
  KARS_MESH_BINDING_FILE: z.string().min(1).optional(),
  KARS_MESH_TRUST_THRESHOLD: z.coerce.number().int().min(0).max(1000).default(DEFAULT_TRUST_THRESHOLD),
  /** The trust plane's `/api` root for `GET trust/scores/{did}`; default KARS_MESH_FUNCTIONS_URL. */
  KARS_MESH_TRUST_URL: z.url().optional(),
  /** Local broker only (UseDevelopmentEmulator=true); in Azure KARS_MESH_SERVICEBUS_NAMESPACE with workload identity. */
  KARS_MESH_SERVICEBUS_CONNECTION: z.string().min(1).optional(),
  KARS_MESH_SERVICEBUS_NAMESPACE: z.string().regex(/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/).optional(),
  /** `true`: KARS_MESH_SERVICEBUS_NAMESPACE is the local broker (loopback host:port, emulator transport, Entra tokens). */
  KARS_MESH_SERVICEBUS_EMULATOR: z.enum(['true', 'false']).default('false'),
  KARS_MESH_QUEUE: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/).default(DEFAULT_MESH_QUEUE),
  /** Fallback poll of the relay store (the only path without a bus). */
  KARS_MESH_POLL_MS: z.coerce.number().int().min(200).max(600_000).default(5000),
});

export const MESH_BRIDGE_SETTING_KEYS: readonly string[] = Object.keys(schema.shape);

export interface MeshBridgeConfig {
  functionsUrl: string;
  tokenFile: string;
  sandboxKeyFile: string;
  agentDid: string | undefined;
  bindingFile: string | undefined;
  trustThreshold: number;
  trustUrl: string;
  bus: { connectionString: string } | { namespace: string; developmentEmulator: boolean } | undefined;
  queue: string;
  pollMs: number;
}

/** undefined when the bridge is off. @throws KarsError CONFIG_INVALID naming the keys */
export function loadMeshBridgeConfig(env: Readonly<Record<string, string | undefined>>): MeshBridgeConfig | undefined {
  const picked = Object.fromEntries(MESH_BRIDGE_SETTING_KEYS.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${keys}`);
  }
  const s = parsed.data;
  if (s.KARS_MESH_FUNCTIONS_URL === undefined) return undefined;
  const secure = (url: string): boolean => url.startsWith('https:') || (url.startsWith('http:') && isLoopbackUrl(url));
  const bad = [
    !secure(s.KARS_MESH_FUNCTIONS_URL) && 'KARS_MESH_FUNCTIONS_URL',
    s.KARS_MESH_TRUST_URL !== undefined && !secure(s.KARS_MESH_TRUST_URL) && 'KARS_MESH_TRUST_URL',
    s.KARS_MESH_SANDBOX_KEY_FILE === undefined && 'KARS_MESH_SANDBOX_KEY_FILE',
    s.KARS_MESH_AGENT_DID === undefined && s.KARS_MESH_BINDING_FILE === undefined && 'KARS_MESH_BINDING_FILE',
    s.KARS_MESH_SERVICEBUS_CONNECTION !== undefined && s.KARS_MESH_SERVICEBUS_NAMESPACE !== undefined && 'KARS_MESH_SERVICEBUS_NAMESPACE',
    // A port (the local broker) only with the emulator flag, and the emulator only on loopback.
    s.KARS_MESH_SERVICEBUS_EMULATOR === 'true' && !/^(127\.0\.0\.1|localhost)(:\d{1,5})?$/.test(s.KARS_MESH_SERVICEBUS_NAMESPACE ?? '') && 'KARS_MESH_SERVICEBUS_EMULATOR',
    s.KARS_MESH_SERVICEBUS_EMULATOR !== 'true' && (s.KARS_MESH_SERVICEBUS_NAMESPACE ?? '').includes(':') && 'KARS_MESH_SERVICEBUS_NAMESPACE',
  ].filter((k): k is string => typeof k === 'string');
  if (bad.length > 0) throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${bad.join(', ')}`);
  return {
    functionsUrl: s.KARS_MESH_FUNCTIONS_URL,
    tokenFile: s.KARS_MESH_ROUTER_TOKEN_FILE,
    sandboxKeyFile: s.KARS_MESH_SANDBOX_KEY_FILE!,
    agentDid: s.KARS_MESH_AGENT_DID,
    bindingFile: s.KARS_MESH_BINDING_FILE,
    trustThreshold: s.KARS_MESH_TRUST_THRESHOLD,
    trustUrl: s.KARS_MESH_TRUST_URL ?? s.KARS_MESH_FUNCTIONS_URL,
    bus: s.KARS_MESH_SERVICEBUS_CONNECTION !== undefined ? { connectionString: s.KARS_MESH_SERVICEBUS_CONNECTION }
      : s.KARS_MESH_SERVICEBUS_NAMESPACE !== undefined
        ? { namespace: s.KARS_MESH_SERVICEBUS_NAMESPACE, developmentEmulator: s.KARS_MESH_SERVICEBUS_EMULATOR === 'true' } : undefined,
    queue: s.KARS_MESH_QUEUE,
    pollMs: s.KARS_MESH_POLL_MS,
  };
}
