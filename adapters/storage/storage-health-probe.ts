// Health probe for Azure Storage (Azurite locally): one table-service and one blob-service round trip, no retries,
// bounded by the caller's AbortSignal and its own deadline, so a dead emulator reports "down" within ~2 s.
import type { HealthProbe } from '../../core/ports/health-probe.port';
import type { Redacted } from '../../core/secrets/redacted';
import { createBlobServiceClient, createTableServiceClient } from './storage-clients';
import { translateStorageError } from './translate-storage-error';

export interface StorageHealthProbeOptions {
  /** Dependency name in /api/health. Default 'storage'. */
  name?: string;
  /** Own deadline on top of the caller's signal. Default 2000 ms. */
  timeoutMs?: number;
}

export function createStorageHealthProbe(connectionString: Redacted<string>, options: StorageHealthProbeOptions = {}): HealthProbe {
  // No SDK retries: a probe answers "is it up now", the caller decides about retrying.
  const tables = createTableServiceClient(connectionString, { maxRetries: 0 });
  const blobs = createBlobServiceClient(connectionString, { maxRetries: 0 });
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    name: options.name ?? 'storage',
    async check(signal: AbortSignal): Promise<void> {
      const abortSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      try {
        await Promise.all([tables.getProperties({ abortSignal }), blobs.getProperties({ abortSignal })]);
      } catch (e) {
        throw translateStorageError(e, 'storage health probe');
      }
    },
  };
}
