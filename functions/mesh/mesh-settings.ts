// Mesh settings parsed once, at the first mesh request (the routes answer CONFIG_INVALID until they are valid). The
// cluster's OIDC issuer and JWKS URL name who may mint router tokens. No setting can switch a mitigation off:
// `_disable` is not reachable from here.
import { z } from 'zod';
import { KarsError } from '../../core/errors';
import { perSecond, type TokenBucketConfig } from '../../core/limits/token-bucket';
import { DEFAULT_ROUTER_TOKEN_MAX_LIFETIME_SEC, MESH_TOKEN_AUDIENCE } from '../../core/mesh/router-auth/verify-router-token';
import { DEFAULT_AUTH_TOLERANCE_SEC } from '../../core/mesh/registry/ed25519-timestamp-auth';
import { DEFAULT_INBOX_MAX_BYTES, DEFAULT_INBOX_MAX_FRAMES } from '../../core/mesh/relay/mesh-relay';
import { DEFAULT_MESH_QUEUE } from '../../adapters/mesh/bus-mesh-notifier';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const meshSettingsSchema = z.object({
  KARS_MESH_OIDC_ISSUER: z.url(),
  KARS_MESH_OIDC_JWKS_URL: z.url(),
  KARS_MESH_TOKEN_AUDIENCE: z.string().min(1).max(256).default(MESH_TOKEN_AUDIENCE),
  // Bounded by the longest projected token Kubernetes mints (48 h); keep it at the pod's expirationSeconds.
  KARS_MESH_ROUTER_TOKEN_MAX_LIFETIME_SEC: int(DEFAULT_ROUTER_TOKEN_MAX_LIFETIME_SEC, 600, 48 * 3600),
  KARS_MESH_ROUTER_SERVICE_ACCOUNTS: z.string().regex(/^[a-z0-9-]{1,63}(,[a-z0-9-]{1,63})*$/).default('kars-router'),
  KARS_MESH_ID: z.string().regex(/^[a-z0-9-]{1,63}$/).default('kars'),
  KARS_MESH_QUEUE: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/).default(DEFAULT_MESH_QUEUE),
  KARS_MESH_RELAY_TTL_SEC: int(72 * 3600, 60, 14 * 86400),
  KARS_MESH_AUTH_TOLERANCE_SEC: int(DEFAULT_AUTH_TOLERANCE_SEC, 1, 3600),
  KARS_MESH_AGENT_RPS: int(20, 1, 100_000),
  KARS_MESH_AGENT_BURST: int(40, 1, 1_000_000),
  KARS_MESH_GLOBAL_RPS: int(500, 1, 100_000),
  KARS_MESH_GLOBAL_BURST: int(1000, 1, 1_000_000),
  KARS_MESH_REGISTRY_RPS: int(5, 1, 100_000),
  KARS_MESH_REGISTRY_BURST: int(20, 1, 1_000_000),
  KARS_MESH_REGISTRY_GLOBAL_RPS: int(200, 1, 100_000),
  KARS_MESH_REGISTRY_GLOBAL_BURST: int(400, 1, 1_000_000),
  KARS_MESH_INBOX_MAX_FRAMES: int(DEFAULT_INBOX_MAX_FRAMES, 1, 100_000),
  KARS_MESH_INBOX_MAX_BYTES: int(DEFAULT_INBOX_MAX_BYTES, 256 * 1024, 1024 * 1024 * 1024),
});

/** Every setting this module reads; local.settings.sample.json documents each. */
export const MESH_SETTING_KEYS: readonly string[] = Object.keys(meshSettingsSchema.shape);

export interface MeshSettings {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  readonly serviceAccounts: readonly string[];
  /** Router tokens living longer (exp - iat) are refused (T4-S). */
  readonly routerTokenMaxLifetimeSec: number;
  readonly meshId: string;
  readonly queue: string;
  readonly relayTtlMs: number;
  readonly toleranceSec: number;
  /** Per sender identity (T4-D). */
  readonly agentRate: TokenBucketConfig;
  /** The relay store's global limit (T4-D). */
  readonly globalRate: TokenBucketConfig;
  /** Registry calls per calling sandbox, and over all callers (T4-D: prekey draining, registration floods). */
  readonly registryRate: TokenBucketConfig;
  readonly registryGlobalRate: TokenBucketConfig;
  /** Pending relay frames and bytes per recipient (T4-D). */
  readonly inboxMaxFrames: number;
  readonly inboxMaxBytes: number;
}

/** @throws KarsError CONFIG_INVALID naming the offending keys (never their values) */
export function loadMeshSettings(env: Readonly<Record<string, string | undefined>>): MeshSettings {
  const picked = Object.fromEntries(MESH_SETTING_KEYS.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = meshSettingsSchema.safeParse(picked);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${keys}`);
  }
  const s = parsed.data;
  return {
    issuer: s.KARS_MESH_OIDC_ISSUER,
    jwksUrl: s.KARS_MESH_OIDC_JWKS_URL,
    audience: s.KARS_MESH_TOKEN_AUDIENCE,
    serviceAccounts: s.KARS_MESH_ROUTER_SERVICE_ACCOUNTS.split(','),
    routerTokenMaxLifetimeSec: s.KARS_MESH_ROUTER_TOKEN_MAX_LIFETIME_SEC,
    meshId: s.KARS_MESH_ID,
    queue: s.KARS_MESH_QUEUE,
    relayTtlMs: s.KARS_MESH_RELAY_TTL_SEC * 1000,
    toleranceSec: s.KARS_MESH_AUTH_TOLERANCE_SEC,
    agentRate: perSecond(s.KARS_MESH_AGENT_RPS, s.KARS_MESH_AGENT_BURST),
    globalRate: perSecond(s.KARS_MESH_GLOBAL_RPS, s.KARS_MESH_GLOBAL_BURST),
    registryRate: perSecond(s.KARS_MESH_REGISTRY_RPS, s.KARS_MESH_REGISTRY_BURST),
    registryGlobalRate: perSecond(s.KARS_MESH_REGISTRY_GLOBAL_RPS, s.KARS_MESH_REGISTRY_GLOBAL_BURST),
    inboxMaxFrames: s.KARS_MESH_INBOX_MAX_FRAMES,
    inboxMaxBytes: s.KARS_MESH_INBOX_MAX_BYTES,
  };
}
