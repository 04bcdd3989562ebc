// getServices builds the process's services once, and a failed build (a bad setting, a dependency down) is not kept:
// the next call builds again, so an instance recovers once its app settings or dependencies are fixed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getServices } from '../../functions/services';

// Local-mode settings whose clients are created without connecting (nothing listens on port 9).
const dir = mkdtempSync(join(tmpdir(), 'kars-services-'));
const SETTINGS: Record<string, string> = {
  KARS_MODE: 'local',
  KARS_COSMOS_ENDPOINT: 'http://127.0.0.1:9',
  KARS_COSMOS_KEY: 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
  KARS_SERVICEBUS_CONNECTION: 'Endpoint=sb://127.0.0.1:9;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  KARS_SECRETS_SOURCE: 'file',
  KARS_SECRETS_FILE: join(dir, 'secrets.json'),
};
const saved = Object.fromEntries(Object.keys(SETTINGS).map((k) => [k, process.env[k]]));

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('getServices', () => {
  it('retries a failed build on the next call, then keeps the built services', async () => {
    // Valid settings, but a connection string the Service Bus client refuses: the build itself fails (asynchronously).
    Object.assign(process.env, SETTINGS, { KARS_SERVICEBUS_CONNECTION: 'not-a-connection-string' });
    const failed = getServices();
    await expect(failed).rejects.toThrow();
    Object.assign(process.env, SETTINGS);
    const services = await getServices();
    try {
      expect(services.config.mode).toBe('local');
      expect(await getServices()).toBe(services);
    } finally {
      await services.close();
    }
  });
});
