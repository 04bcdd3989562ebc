// Health probe for Cosmos: one cheap read, abandoned as soon as the caller's deadline aborts.
import type { CosmosClient } from '@azure/cosmos';
import { KarsError } from '../../core/errors';
import type { HealthProbe } from '../../core/ports/health-probe.port';
import { translateCosmosError } from './translate-cosmos-error';

export interface CosmosHealthProbeOptions {
  name?: string;
  /** When set, the probe reads this database (proves the account and the database); else the account metadata. */
  databaseId?: string;
}

/**
 * The SDK does not honour abort signals everywhere (endpoint discovery, some retry waits), so the probe races the
 * call against the signal and settles on abort even while the SDK keeps trying in the background.
 */
export function createCosmosHealthProbe(client: CosmosClient, options?: CosmosHealthProbeOptions): HealthProbe {
  const databaseId = options?.databaseId;
  return {
    name: options?.name ?? 'cosmos',
    async check(signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw new KarsError('DEPENDENCY_TIMEOUT', 'cosmos health check aborted');
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new KarsError('DEPENDENCY_TIMEOUT', 'cosmos health check timed out'));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const call = (async () => {
        try {
          if (databaseId !== undefined) await client.database(databaseId).read({ abortSignal: signal });
          else await client.getDatabaseAccount({ abortSignal: signal });
        } catch (e) {
          throw translateCosmosError(e, 'health check');
        }
      })();
      call.catch(() => undefined); // the race below may settle first; never leave an unhandled rejection behind
      try {
        await Promise.race([call, aborted]);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
