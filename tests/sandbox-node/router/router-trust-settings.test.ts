// The router's live trust source settings (RR2): off unless the API is set, the token only over https (or loopback),
// a bad value named by key and never echoed, and no key reaching a mitigation switch.
import { describe, expect, it } from 'vitest';
import { ROUTER_TRUST_SETTING_KEYS, trustScoreSourceFromEnv } from '../../../sandbox-node/router/router-trust-settings';

describe('trustScoreSourceFromEnv', () => {
  it('builds no source without KARS_ROUTER_TRUST_API, and one for https or loopback http', async () => {
    expect(trustScoreSourceFromEnv({}, 't1')).toBeUndefined();
    expect(trustScoreSourceFromEnv({ KARS_ROUTER_TRUST_API: '' }, 't1')).toBeUndefined();
    for (const api of ['https://kars-app.azurewebsites.net/api', 'http://127.0.0.1:7071/api', 'http://localhost:7071/api']) {
      const s = trustScoreSourceFromEnv({ KARS_ROUTER_TRUST_API: api }, 't1');
      expect(s, api).toBeDefined();
      await s!.stop();
    }
  });

  it('refuses plain http off loopback, user info and queries, naming the key but never the value', () => {
    for (const api of ['http://kars-app.example/api', 'https://user:canary-91@kars-app.example/api', 'https://kars-app.example/api?canary-91', 'not a url canary-91']) {
      let message = '';
      try {
        trustScoreSourceFromEnv({ KARS_ROUTER_TRUST_API: api }, 't1');
      } catch (e) {
        message = (e as Error).message;
        expect(e).toMatchObject({ code: 'CONFIG_INVALID' });
      }
      expect(message, api).toContain('KARS_ROUTER_TRUST_API');
      expect(message).not.toContain('canary-91');
    }
    expect(() => trustScoreSourceFromEnv({ KARS_ROUTER_TRUST_API: 'https://a.example/api', KARS_ROUTER_TRUST_POLL_MS: '5' }, 't1')).toThrowError(/KARS_ROUTER_TRUST_POLL_MS/);
  });

  it('has no setting that reaches a mitigation switch', () => {
    expect(ROUTER_TRUST_SETTING_KEYS.some((k) => /disable|mitigation/i.test(k))).toBe(false);
  });
});
