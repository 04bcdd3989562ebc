import { describe, expect, it } from 'vitest';
import { EDGE_SETTING_KEYS, loadEdgeSettings } from '../../../functions/hooks/edge-settings';
import { isKarsError } from '../../../core/errors';

describe('edge settings', () => {
  it('defaults to the seed values', () => {
    expect(loadEdgeSettings({}, 'azure')).toEqual({
      maxBodyBytes: 262_144, toleranceSec: 300, untimedReplayRetentionSec: 259_200, hookCacheTtlMs: 10_000, demoHooks: false,
      githubReplayRetentionSec: 8 * 86_400,
      preAuthPerHook: { capacity: 200, refillTokens: 10, refillPeriodMs: 1000 },
      preAuthGlobal: { capacity: 1000, refillTokens: 100, refillPeriodMs: 1000 },
    });
  });

  it('reads the GitHub replay retention and the deployment-wide pre-auth budgets', () => {
    const s = loadEdgeSettings({
      KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC: String(14 * 86_400),
      KARS_EDGE_PREAUTH_HOOK_RPS: '3', KARS_EDGE_PREAUTH_HOOK_BURST: '30', KARS_EDGE_PREAUTH_GLOBAL_RPS: '40', KARS_EDGE_PREAUTH_GLOBAL_BURST: '400',
    }, 'azure');
    expect(s.githubReplayRetentionSec).toBe(14 * 86_400);
    expect(s.preAuthPerHook).toEqual({ capacity: 30, refillTokens: 3, refillPeriodMs: 1000 });
    expect(s.preAuthGlobal).toEqual({ capacity: 400, refillTokens: 40, refillPeriodMs: 1000 });
    // Shorter than github.com's own 3-day redelivery window: a copy GitHub may still send would be accepted again.
    expect(() => loadEdgeSettings({ KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC: String(3 * 86_400 - 1) }, 'azure')).toThrow(/KARS_EDGE_GITHUB_REPLAY_RETENTION_SEC/);
    for (const key of ['KARS_EDGE_PREAUTH_HOOK_RPS', 'KARS_EDGE_PREAUTH_HOOK_BURST', 'KARS_EDGE_PREAUTH_GLOBAL_RPS', 'KARS_EDGE_PREAUTH_GLOBAL_BURST']) {
      expect(() => loadEdgeSettings({ [key]: '0' }, 'azure'), key).toThrow(new RegExp(key));
      expect(() => loadEdgeSettings({ [key]: '1.5' }, 'azure'), key).toThrow(new RegExp(key));
    }
  });

  it('names a bad key, never its value, and refuses demo hooks outside local mode', () => {
    try {
      loadEdgeSettings({ KARS_EDGE_MAX_BODY_BYTES: 'canary-12ab' }, 'local');
      throw new Error('expected a failure');
    } catch (e) {
      expect(isKarsError(e) && e.code).toBe('CONFIG_INVALID');
      expect((e as Error).message).toContain('KARS_EDGE_MAX_BODY_BYTES');
      expect((e as Error).message).not.toContain('canary-12ab');
    }
    expect(() => loadEdgeSettings({ KARS_EDGE_DEMO_HOOKS: 'true' }, 'azure')).toThrow(/KARS_EDGE_DEMO_HOOKS/);
    expect(loadEdgeSettings({ KARS_EDGE_DEMO_HOOKS: 'true' }, 'local').demoHooks).toBe(true);
    expect(() => loadEdgeSettings({ KARS_EDGE_TOLERANCE_SEC: '600', KARS_EDGE_UNTIMED_REPLAY_RETENTION_SEC: '900' }, 'local')).toThrow(/RETENTION/);
  });

  it('offers no way to switch a mitigation off', () => {
    expect(EDGE_SETTING_KEYS.some((k) => /DISABLE/i.test(k))).toBe(false);
    const s = loadEdgeSettings({ KARS_EDGE__DISABLE: 'signature', _disable: 'signature' } as Record<string, string>, 'local');
    expect(Object.keys(s)).not.toContain('_disable');
  });
});
