// The router's live trust source (RR2) from the pod's environment, for whatever gates a KNOCK on it: the Functions
// app's API base and the projected service-account token file (audience `kars-mesh`). Unset API: no source (the gate
// then has nothing to admit on). The token travels only over https (plain http on loopback, the local stack).
import { z } from 'zod';
import { KarsError } from '../../core/errors';
import type { Logger } from '../../core/ports/logger.port';
import { isLoopbackUrl } from '../../adapters/identity/loopback';
import {
  createHttpTrustScoreSource, DEFAULT_TRUST_MAX_POLL_AGE_MS, DEFAULT_TRUST_POLL_MS, DEFAULT_TRUST_TTL_MS, type LiveTrustScoreSource,
} from './http-trust-score-source';
import { routerTokenFromFile } from './router-token-file';

export const DEFAULT_MESH_TOKEN_FILE = '/var/run/secrets/kars/mesh/token';

const ms = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const trustSchema = z.object({
  /** The Functions app's API base (`https://<app>/api`); unset: no live trust source. */
  KARS_ROUTER_TRUST_API: z.url().optional(),
  KARS_ROUTER_MESH_TOKEN_FILE: z.string().min(1).max(4096).default(DEFAULT_MESH_TOKEN_FILE),
  KARS_ROUTER_TRUST_POLL_MS: ms(DEFAULT_TRUST_POLL_MS, 50, 60_000),
  KARS_ROUTER_TRUST_TTL_MS: ms(DEFAULT_TRUST_TTL_MS, 100, 3_600_000),
  KARS_ROUTER_TRUST_MAX_POLL_AGE_MS: ms(DEFAULT_TRUST_MAX_POLL_AGE_MS, 100, 600_000),
});

/** Every setting this module reads (docs/router.md documents each). */
export const ROUTER_TRUST_SETTING_KEYS: readonly string[] = Object.keys(trustSchema.shape);

/**
 * The source, not yet started (call start()); undefined when KARS_ROUTER_TRUST_API is unset.
 * @throws KarsError CONFIG_INVALID naming the offending keys (never their values)
 */
export function trustScoreSourceFromEnv(env: Readonly<Record<string, string | undefined>>, tenantId: string, logger?: Logger): LiveTrustScoreSource | undefined {
  const picked = Object.fromEntries(ROUTER_TRUST_SETTING_KEYS.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = trustSchema.safeParse(picked);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid or missing settings: ${keys}`);
  }
  const s = parsed.data;
  if (s.KARS_ROUTER_TRUST_API === undefined) return undefined;
  const api = new URL(s.KARS_ROUTER_TRUST_API);
  if ((api.protocol !== 'https:' && !(api.protocol === 'http:' && isLoopbackUrl(api.href))) || api.search || api.hash || api.username || api.password) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_ROUTER_TRUST_API must be https, without query, fragment or user info');
  }
  return createHttpTrustScoreSource({
    apiBase: api.href, tenantId, routerToken: routerTokenFromFile(s.KARS_ROUTER_MESH_TOKEN_FILE),
    pollMs: s.KARS_ROUTER_TRUST_POLL_MS, ttlMs: s.KARS_ROUTER_TRUST_TTL_MS, maxPollAgeMs: s.KARS_ROUTER_TRUST_MAX_POLL_AGE_MS,
    ...(logger ? { logger } : {}),
  });
}
