// T2-S: the compiled daemon refuses to start with the non-loopback dev flag inside a cluster (KUBERNETES_SERVICE_HOST
// is set in every pod), exiting 2 with the setting's name; outside a cluster the flag still works (and warns).
import { describe, expect, it } from 'vitest';
import { startRouterDaemon, stopRouterDaemon } from './router-daemon';

const env = (extra: Record<string, string>): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  KARS_ROUTER_LISTEN: '0.0.0.0:0',
  KARS_ROUTER_ALLOW_NON_LOOPBACK: 'true',
  KARS_SANDBOX_ID: 'startup-test',
  KARS_ROUTER_MODEL_ENDPOINT: 'https://example-resource.openai.azure.com',
  KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini',
  ...extra,
});

describe('router start-up in a cluster', () => {
  it('exits 2 with KARS_ROUTER_ALLOW_NON_LOOPBACK=true and KUBERNETES_SERVICE_HOST set', async () => {
    await expect(startRouterDaemon(env({ KUBERNETES_SERVICE_HOST: '10.0.0.1' })))
      .rejects.toThrow(/exited 2: router: CONFIG_INVALID: invalid settings: KARS_ROUTER_ALLOW_NON_LOOPBACK is a dev flag, refused in a cluster/);
  });

  it('starts (with the warning) outside a cluster', async () => {
    const d = await startRouterDaemon(env({}));
    try {
      expect(d.output()).toContain('router.listen_not_loopback');
    } finally {
      await stopRouterDaemon(d);
    }
  });
});
