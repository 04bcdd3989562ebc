// Storage health probe against Azurite: up answers fast; a killed emulator is "down" well inside 2 s; a frozen one
// hits the probe's own deadline; the caller's AbortSignal is honoured; no error text carries the account key.
import { afterAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../../infra/local/azurite/start-azurite';
import { DEV_STORAGE_ACCOUNT_KEY } from '../../../infra/local/azurite/dev-storage-account';
import { createStorageHealthProbe } from '../../../adapters/storage/storage-health-probe';
import { checkDependencies } from '../../../core/health/check-dependencies';
import { redact } from '../../../core/secrets/redacted';

const handles: AzuriteHandle[] = [];
afterAll(async () => {
  for (const h of handles) {
    try {
      process.kill(-h.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await h.stop();
  }
});

const never = () => new AbortController().signal;

async function timed<T>(p: Promise<T>): Promise<{ ms: number; error?: unknown }> {
  const t0 = performance.now();
  try {
    await p;
    return { ms: performance.now() - t0 };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe('storage health probe', () => {
  it('answers when Azurite is up and reports it down within 2 s once Azurite is killed', async () => {
    const h = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
    handles.push(h);
    const probe = createStorageHealthProbe(redact(h.connectionString));
    expect(probe.name).toBe('storage');
    const up = await timed(probe.check(never()));
    expect(up.error).toBeUndefined();
    expect((await checkDependencies([probe])).dependencies.storage!.state).toBe('ok');

    process.kill(-h.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const down = await timed(probe.check(never()));
    expect(down.error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(down.ms).toBeLessThan(2000);
    expect(String((down.error as Error).message)).not.toContain(DEV_STORAGE_ACCOUNT_KEY);
    expect(String((down.error as Error).message)).not.toContain('AccountKey');
    const report = await checkDependencies([probe], { timeoutMs: 2000 });
    expect(report.status).toBe('degraded');
    expect(report.dependencies.storage).toMatchObject({ state: 'down', reason: 'error' });
  });

  it('gives up at its own deadline when Azurite hangs, and honours the caller signal sooner', async () => {
    const h = await startAzurite({ blobPort: 0, queuePort: 0, tablePort: 0 });
    handles.push(h);
    const probe = createStorageHealthProbe(redact(h.connectionString), { timeoutMs: 600 });
    process.kill(-h.pid, 'SIGSTOP');
    try {
      const hung = await timed(probe.check(never()));
      expect(hung.error).toMatchObject({ code: 'DEPENDENCY_TIMEOUT' });
      expect(hung.ms).toBeGreaterThanOrEqual(550);
      expect(hung.ms).toBeLessThan(2000);

      const caller = new AbortController();
      setTimeout(() => caller.abort(), 100);
      const aborted = await timed(probe.check(caller.signal));
      expect(aborted.error).toMatchObject({ code: 'DEPENDENCY_TIMEOUT' });
      expect(aborted.ms).toBeLessThan(500);
    } finally {
      process.kill(-h.pid, 'SIGCONT');
    }
    await h.stop();
  });
});
