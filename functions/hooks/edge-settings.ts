// Edge settings parsed once at start-up (defaults from core/edge/edge-types.ts: 256 KiB bodies, ±300 s; pre-auth
// budgets per deployment). A bad setting fails fast naming the key, never the value. No setting can switch a
// mitigation off: `_disable` is not reachable from here.
import { z } from 'zod';
import { KarsError } from '../../core/errors';
import { intSetting } from '../int-setting';
import { DEFAULT_GITHUB_REPLAY_RETENTION_SEC, DEFAULT_MAX_BODY_BYTES, DEFAULT_UNTIMED_REPLAY_RETENTION_SEC } from '../../core/edge/edge-types';
import { DEFAULT_PREAUTH_GLOBAL, DEFAULT_PREAUTH_PER_HOOK } from '../../core/edge/preauth-guard';
import { perSecond, type TokenBucketConfig } from '../../core/limits/token-bucket';
import { DEFAULT_HOOK_CACHE_TTL_MS } from '../../adapters/edge/document-hook-registry';
import { DEFAULT_TOLERANCE_SEC } from '../../core/webhook/types';

const edgeSettingsSchema = z.object({
  KARS_EDGE_MAX_BODY_BYTES: intSetting(DEFAULT_MAX_BODY_BYTES, 1024, 64 * 1024 * 1024),
  KARS_EDGE_TOLERANCE_SEC: intSetting(DEFAULT_TOLERANCE_SEC, 1, 3600),
  KARS_EDGE_UNTIMED_REPLAY_RETENTION_SEC: intSetting(DEFAULT_UNTIMED_REPLAY_RETENTION_SEC, 600, 30 * 86400),
  // Never shorter than github.com's own redelivery window (3 days): a copy GitHub may still send must stay a duplicate.
  KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC: intSetting(DEFAULT_GITHUB_REPLAY_RETENTION_SEC, 3 * 86400, 30 * 86400),
  // Pre-auth flood guard budgets for the whole deployment; each instance takes 1/KARS_LIMIT_MAX_INSTANCES of them.
  KARS_EDGE_PREAUTH_HOOK_RPS: intSetting(DEFAULT_PREAUTH_PER_HOOK.refillTokens, 1, 100_000),
  KARS_EDGE_PREAUTH_HOOK_BURST: intSetting(DEFAULT_PREAUTH_PER_HOOK.capacity, 1, 1_000_000),
  KARS_EDGE_PREAUTH_GLOBAL_RPS: intSetting(DEFAULT_PREAUTH_GLOBAL.refillTokens, 1, 100_000),
  KARS_EDGE_PREAUTH_GLOBAL_BURST: intSetting(DEFAULT_PREAUTH_GLOBAL.capacity, 1, 1_000_000),
  KARS_EDGE_HOOK_CACHE_TTL_MS: intSetting(DEFAULT_HOOK_CACHE_TTL_MS, 0, 300_000),
  KARS_EDGE_DEMO_HOOKS: z.enum(['true', 'false']).default('false'),
});

/** Every setting this module reads; local.settings.sample.json must document each. */
export const EDGE_SETTING_KEYS: readonly string[] = Object.keys(edgeSettingsSchema.shape);

export interface EdgeSettings {
  readonly maxBodyBytes: number;
  readonly toleranceSec: number;
  readonly untimedReplayRetentionSec: number;
  /** Replay-claim lifetime of GitHub deliveries (GitHub signs no timestamp). */
  readonly githubReplayRetentionSec: number;
  /** Pre-auth guard budgets for the whole deployment (divided by the instance count in buildHookRouteDeps). */
  readonly preAuthPerHook: TokenBucketConfig;
  readonly preAuthGlobal: TokenBucketConfig;
  readonly hookCacheTtlMs: number;
  /** Seed the DEV-ONLY demo hooks: read by the local host (infra/local/host/main.ts) only; refused in azure mode. */
  readonly demoHooks: boolean;
}

/** @throws KarsError CONFIG_INVALID naming the offending keys (never their values) */
export function loadEdgeSettings(env: Readonly<Record<string, string | undefined>>, mode: 'local' | 'azure'): EdgeSettings {
  const picked = Object.fromEntries(EDGE_SETTING_KEYS.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = edgeSettingsSchema.safeParse(picked);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new KarsError('CONFIG_INVALID', `invalid settings: ${keys}`);
  }
  const s = parsed.data;
  if (s.KARS_EDGE_DEMO_HOOKS === 'true' && mode !== 'local') {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_EDGE_DEMO_HOOKS is for local mode only');
  }
  if (s.KARS_EDGE_UNTIMED_REPLAY_RETENTION_SEC < 2 * s.KARS_EDGE_TOLERANCE_SEC) {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_EDGE_UNTIMED_REPLAY_RETENTION_SEC must be at least twice KARS_EDGE_TOLERANCE_SEC');
  }
  return Object.freeze({
    maxBodyBytes: s.KARS_EDGE_MAX_BODY_BYTES,
    toleranceSec: s.KARS_EDGE_TOLERANCE_SEC,
    untimedReplayRetentionSec: s.KARS_EDGE_UNTIMED_REPLAY_RETENTION_SEC,
    githubReplayRetentionSec: s.KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC,
    preAuthPerHook: perSecond(s.KARS_EDGE_PREAUTH_HOOK_RPS, s.KARS_EDGE_PREAUTH_HOOK_BURST),
    preAuthGlobal: perSecond(s.KARS_EDGE_PREAUTH_GLOBAL_RPS, s.KARS_EDGE_PREAUTH_GLOBAL_BURST),
    hookCacheTtlMs: s.KARS_EDGE_HOOK_CACHE_TTL_MS,
    demoHooks: s.KARS_EDGE_DEMO_HOOKS === 'true',
  });
}
