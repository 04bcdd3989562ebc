import { describe, expect, it } from 'vitest';
import { EDGE_SETTING_KEYS, loadEdgeSettings } from '../../../functions/hooks/edge-settings';
import { isKarsError } from '../../../core/errors';

describe('edge settings', () => {
  it('defaults to the seed values', () => {
    expect(loadEdgeSettings({}, 'azure')).toEqual({
      maxBodyBytes: 262_144, toleranceSec: 300, untimedReplayRetentionSec: 259_200, queue: 'kars-edge-inbound', hookCacheTtlMs: 10_000, demoHooks: false,
    });
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
