import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_KEYS, loadConfig } from '../../functions/config';
import { EDGE_SETTING_KEYS } from '../../functions/hooks/edge-settings';
import { OPERATOR_AUTH_SETTING_KEYS } from '../../functions/http/operator-auth-settings';
import { MESH_SETTING_KEYS } from '../../functions/mesh/mesh-settings';
import { ROUTER_AUDIT_SETTING_KEYS } from '../../functions/audit/router-audit-settings';
import { ROLLOUT_DRIVER_SETTING_KEYS } from '../../functions/rollouts/rollout-driver-settings';

const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as {
  Values: Record<string, string>;
  Comments: Record<string, string>;
};

describe('local.settings.sample.json', () => {
  it('documents every setting the app reads', () => {
    for (const key of [...SETTING_KEYS, ...EDGE_SETTING_KEYS, ...OPERATOR_AUTH_SETTING_KEYS, ...MESH_SETTING_KEYS, ...ROUTER_AUDIT_SETTING_KEYS, ...ROLLOUT_DRIVER_SETTING_KEYS]) expect(sample.Comments[key], key).toBeTruthy();
  });

  it('documents every value it sets, and labels demo credentials DEV-ONLY', () => {
    for (const [key, value] of Object.entries(sample.Values)) {
      expect(sample.Comments[key], key).toBeTruthy();
      if (/KEY$|CONNECTION$/.test(key) && key !== 'KARS_AUDIT_SIGNING_KEY_NAME') expect(value, key).toContain('DEV-ONLY');
    }
  });

  it('is a valid local configuration', () => {
    expect(loadConfig(sample.Values).mode).toBe('local');
  });
});

describe('loadConfig', () => {
  it('names the bad key but never echoes its value', () => {
    const env = { ...sample.Values, KARS_COSMOS_ENDPOINT: 'not a url canary-77' };
    expect(() => loadConfig(env)).toThrowError(/KARS_COSMOS_ENDPOINT/);
    try {
      loadConfig(env);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('canary-77');
    }
  });

  it('refuses an account key in azure mode', () => {
    expect(() => loadConfig({ ...sample.Values, KARS_MODE: 'azure' })).toThrowError(/KARS_COSMOS_KEY/);
  });

  it('refuses the Service Bus emulator transport outside local mode (T1-E: plain TCP is for the loopback broker)', () => {
    const { KARS_COSMOS_KEY: _key, ...rest } = sample.Values;
    expect(() => loadConfig({ ...rest, KARS_MODE: 'azure' })).toThrowError(/KARS_SERVICEBUS_EMULATOR/);
    expect(loadConfig(sample.Values).serviceBus).toEqual({ namespace: '127.0.0.1:5672', developmentEmulator: true });
  });

  it('accepts identity-based storage (Azure) instead of a connection string, and needs one of them', () => {
    const { AzureWebJobsStorage: _cs, ...rest } = sample.Values;
    expect(loadConfig({ ...rest, AzureWebJobsStorage__accountName: 'karsstore01' }).storage).toEqual({ accountName: 'karsstore01' });
    expect(() => loadConfig(rest)).toThrowError(/AzureWebJobsStorage/);
  });

  it('returns a frozen config', () => {
    const c = loadConfig(sample.Values);
    expect(Object.isFrozen(c.cosmos)).toBe(true);
  });
});
